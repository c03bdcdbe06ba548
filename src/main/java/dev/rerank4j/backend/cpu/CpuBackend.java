package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.Tensor;

/** PLACEHOLDER naive kernels, replaced by the Vector API backend (branch kernels). */
public final class CpuBackend implements Backend {
    private record Plain(float[] w, float[] b, int in, int out) implements LinearWeights {}

    public CpuBackend(int threads) {}

    @Override public String name() { return "cpu"; }

    @Override
    public LinearWeights prepareLinear(Tensor weight, Tensor bias) {
        return new Plain(weight.toFloatArray(), bias == null ? null : bias.toFloatArray(), (int) weight.dim(1), (int) weight.dim(0));
    }

    @Override
    public void linear(float[] x, int rows, LinearWeights lw, float[] y, Activation activation) {
        Plain p = (Plain) lw;
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < p.out; o++) {
                float s = p.b == null ? 0 : p.b[o];
                for (int k = 0; k < p.in; k++) s += x[r * p.in + k] * p.w[o * p.in + k];
                y[r * p.out + o] = switch (activation) {
                    case NONE -> s;
                    case TANH -> (float) Math.tanh(s);
                    case GELU -> (float) (0.5 * s * (1 + erf(s / Math.sqrt(2))));
                };
            }
    }

    static double erf(double x) {
        double t = 1 / (1 + 0.5 * Math.abs(x));
        double y = 1 - t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? y : -y;
    }

    @Override
    public void addLayerNorm(float[] x, float[] residual, int rows, int dim, float[] gamma, float[] beta, float eps) {
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            if (residual != null) for (int i = 0; i < dim; i++) x[o + i] += residual[o + i];
            double mean = 0; for (int i = 0; i < dim; i++) mean += x[o + i]; mean /= dim;
            double var = 0; for (int i = 0; i < dim; i++) var += (x[o + i] - mean) * (x[o + i] - mean); var /= dim;
            double inv = 1 / Math.sqrt(var + eps);
            for (int i = 0; i < dim; i++) x[o + i] = (float) ((x[o + i] - mean) * inv * gamma[i] + beta[i]);
        }
    }

    @Override
    public void attention(float[] qkv, int[] seqStarts, int heads, int headDim, float[] out) {
        int h = heads * headDim, stride = 3 * h;
        for (int b = 0; b + 1 < seqStarts.length; b++) {
            int s0 = seqStarts[b], n = seqStarts[b + 1] - s0;
            double[] p = new double[n];
            for (int hd = 0; hd < heads; hd++)
                for (int i = 0; i < n; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int d = 0; d < headDim; d++) s += qkv[(s0 + i) * stride + hd * headDim + d] * qkv[(s0 + j) * stride + h + hd * headDim + d];
                        p[j] = s / Math.sqrt(headDim); max = Math.max(max, p[j]);
                    }
                    double sum = 0; for (int j = 0; j < n; j++) { p[j] = Math.exp(p[j] - max); sum += p[j]; }
                    for (int d = 0; d < headDim; d++) {
                        double acc = 0;
                        for (int j = 0; j < n; j++) acc += p[j] * qkv[(s0 + j) * stride + 2 * h + hd * headDim + d];
                        out[(s0 + i) * h + hd * headDim + d] = (float) (acc / sum);
                    }
                }
        }
    }

    @Override public void close() {}
}
