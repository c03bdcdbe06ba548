package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.io.Tensor;

/** Naive double-precision twins of the optimised kernels: slow, obviously right. */
final class ScalarKernels {
    private ScalarKernels() {}

    /** erf in double: Maclaurin series below 2.5, the erfc continued fraction above. */
    static double erf(double x) {
        double a = Math.abs(x);
        if (a < 2.5) {
            double term = x, sum = x, x2 = x * x;
            for (int n = 1; n < 200; n++) {
                term *= -x2 / n;
                double t = term / (2 * n + 1);
                sum += t;
                if (Math.abs(t) < 1e-18 * Math.abs(sum)) break;
            }
            return 2 / Math.sqrt(Math.PI) * sum;
        }
        return Math.copySign(1 - erfcLarge(a), x);
    }

    /** erfc(a) for a ≥ 2.5 by the continued fraction a + (1/2)/(a + 1/(a + (3/2)/(a + ...))). */
    static double erfcLarge(double a) {
        double f = a;
        for (int n = 300; n >= 1; n--) f = a + (n / 2.0) / f;
        return Math.exp(-a * a) / (Math.sqrt(Math.PI) * f);
    }

    static double gelu(double x) {
        double u = x / Math.sqrt(2);
        // For very negative x, 1 + erf(u) cancels; use erfc there, as the kernel does.
        double onePlusErf = u < -2.5 ? erfcLarge(-u) : 1 + erf(u);
        return 0.5 * x * onePlusErf;
    }

    static double activate(Activation act, double v) {
        return switch (act) {
            case NONE -> v;
            case GELU -> gelu(v);
            case TANH -> Math.tanh(v);
            case RELU -> Math.max(v, 0);
        };
    }

    /** y = x·Wᵀ + b before activation, and Σ|x·w| + |b| per output (the scale of its rounding error). */
    static double[][] linear(float[] x, int rows, Tensor w, Tensor b) {
        int out = (int) w.dim(0), in = (int) w.dim(1);
        double[] y = new double[rows * out], mag = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b.get(o), m = Math.abs(s);
                for (int k = 0; k < in; k++) {
                    double p = (double) x[r * in + k] * w.get((long) o * in + k);
                    s += p;
                    m += Math.abs(p);
                }
                y[r * out + o] = s;
                mag[r * out + o] = m;
            }
        }
        return new double[][] {y, mag};
    }

    static double[] addLayerNorm(float[] x, float[] residual, int rows, int dim, float[] gamma, float[] beta, float eps) {
        double[] y = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            double mean = 0, var = 0;
            double[] v = new double[dim];
            for (int i = 0; i < dim; i++) {
                // The kernel rounds x + residual to float before normalising, as PyTorch does.
                v[i] = residual == null ? x[r * dim + i] : (float) (x[r * dim + i] + residual[r * dim + i]);
                mean += v[i];
            }
            mean /= dim;
            for (int i = 0; i < dim; i++) var += (v[i] - mean) * (v[i] - mean);
            var /= dim;
            double rstd = 1 / Math.sqrt(var + eps);
            for (int i = 0; i < dim; i++) y[r * dim + i] = (v[i] - mean) * rstd * gamma[i] + beta[i];
        }
        return y;
    }

    static double[] attention(float[] qkv, int[] seqStarts, int heads, int hd) {
        return attention(qkv, seqStarts, null, Integer.MAX_VALUE, heads, hd);
    }

    static double[] attention(float[] qkv, int[] seqStarts, int window, int heads, int hd) {
        return attention(qkv, seqStarts, null, window, heads, hd);
    }

    /** Q and K of every token rotated by its position in its sequence, in double: angle p·θ^(−2i/d), dims i and i + d/2. */
    static double[] rotate(float[] qkv, int[] seqStarts, int heads, int hd, double theta) {
        double[] out = new double[qkv.length];
        for (int i = 0; i < qkv.length; i++) out[i] = qkv[i];
        int stride = 3 * heads * hd, half = hd / 2;
        for (int b = 0; b + 1 < seqStarts.length; b++) {
            for (int t = seqStarts[b]; t < seqStarts[b + 1]; t++) {
                int p = t - seqStarts[b];
                for (int h = 0; h < 2 * heads; h++) {
                    int at = t * stride + h * hd;
                    for (int i = 0; i < half; i++) {
                        double angle = p * Math.pow(theta, -2.0 * i / hd), x1 = qkv[at + i], x2 = qkv[at + half + i];
                        out[at + i] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
                        out[at + half + i] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
                    }
                }
            }
        }
        return out;
    }

    /** Attention in which token i sees only the keys j &lt; keyLengths[b] (null: all) of its sequence with |i − j| ≤ window. */
    static double[] attention(float[] qkv, int[] seqStarts, int[] keyLengths, int window, int heads, int hd) {
        int stride = 3 * heads * hd, outStride = heads * hd;
        double[] out = new double[seqStarts[seqStarts.length - 1] * outStride];
        for (int b = 0; b + 1 < seqStarts.length; b++) {
            int t0 = seqStarts[b], len = seqStarts[b + 1] - t0;
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < len; i++) {
                    double[] s = new double[len];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < len; j++) {
                        if (Math.abs(i - j) > window || keyLengths != null && j >= keyLengths[b]) {
                            s[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double dot = 0;
                        for (int d = 0; d < hd; d++) {
                            dot += (double) qkv[(t0 + i) * stride + h * hd + d] * qkv[(t0 + j) * stride + (heads + h) * hd + d];
                        }
                        s[j] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < len; j++) sum += s[j] = Math.exp(s[j] - max); // exp(−∞) = 0 outside the window
                    for (int d = 0; d < hd; d++) {
                        double o = 0;
                        for (int j = 0; j < len; j++) o += s[j] * qkv[(t0 + j) * stride + (2 * heads + h) * hd + d];
                        out[(t0 + i) * outStride + h * hd + d] = o / sum;
                    }
                }
            }
        }
        return out;
    }
}
