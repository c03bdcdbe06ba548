package dev.rerank4j.backend;

import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;

/**
 * The CUDA tensor-core path's numerics on the CPU. Before a linear layer whose weights are BF16 (F16), the
 * kernel splits each input x into hi = round(x) and lo = round(x − hi) in the weights' type (round to
 * nearest even, as {@code __float2bfloat16} and {@code __float2half} do) and sums W·hi + W·lo; products of
 * two half-precision numbers are exact in F32 and the sums stay F32, so feeding the CPU kernel hi + lo
 * differs from the GPU only in the order of the additions. With {@code split} false it models a single
 * rounding (hi alone), the simpler kernel this design replaced. Lets the GPU golden tolerance be measured
 * where no GPU is.
 */
public final class HalfInputBackend implements Backend {
    private final CpuBackend cpu;

    private final boolean split;

    public HalfInputBackend(int threads, boolean split) {
        this.cpu = new CpuBackend(threads);
        this.split = split;
    }

    private record Prepared(LinearWeights inner, DType dtype) implements LinearWeights {
        @Override
        public int in() {
            return inner.in();
        }

        @Override
        public int out() {
            return inner.out();
        }
    }

    /** {@code v} rounded to the nearest BF16, ties to even; NaN and infinities unchanged. */
    public static float toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if ((bits & 0x7f80_0000) == 0x7f80_0000) return v;
        bits += 0x7fff + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(bits & 0xffff_0000);
    }

    private static float round(float v, DType dtype) {
        return dtype == DType.BF16 ? toBf16(v) : Float.float16ToFloat(Float.floatToFloat16(v));
    }

    @Override
    public String name() {
        return "cpu-half-inputs";
    }

    @Override
    public LinearWeights prepareLinear(Tensor weight, Tensor bias) {
        return new Prepared(cpu.prepareLinear(weight, bias), weight.dtype());
    }

    @Override
    public void linear(float[] x, int rows, LinearWeights w, float[] y, Activation activation) {
        Prepared p = (Prepared) w;
        float[] in = x;
        if (p.dtype() != DType.F32) {
            in = new float[rows * p.in()];
            for (int i = 0; i < in.length; i++) {
                float hi = round(x[i], p.dtype());
                in[i] = split ? hi + round(x[i] - hi, p.dtype()) : hi;
            }
        }
        cpu.linear(in, rows, p.inner(), y, activation);
    }

    @Override
    public void addLayerNorm(float[] x, float[] residual, int rows, int dim, float[] gamma, float[] beta, float eps) {
        cpu.addLayerNorm(x, residual, rows, dim, gamma, beta, eps);
    }

    @Override
    public void attention(float[] qkv, int[] seqStarts, int[] keyLengths, int heads, int headDim, float[] out) {
        cpu.attention(qkv, seqStarts, keyLengths, heads, headDim, out);
    }

    @Override
    public void maxSim(float[] query, int queryTokens, float[] docs, int[] docOffsets, int[] candidates, int dim, float[] scores) {
        cpu.maxSim(query, queryTokens, docs, docOffsets, candidates, dim, scores);
    }

    @Override
    public void close() {
        cpu.close();
    }
}
