package dev.rerank4j.backend.cuda;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One backend's kernels against another's (the CPU's, itself checked against scalar twins) on the same
 * random inputs; shared by the GPU parity test and the emulated-kernel test, which differ in sizes.
 */
final class KernelParity {
    /**
     * F32 kernels: the same products summed in another order, and the GPU's erff/expf/tanhf (≤ 2 ulp);
     * relative to the largest |value| of the output, for linear of the product before its activation: tanh
     * and GELU pass the sum's rounding on (measured on an H100, 383×3072→768: 1.06e-5 after tanh, whose
     * outputs stay below 1, from a product of up to ±10).
     */
    static final double F32_TOLERANCE = 1e-5;
    /** Tensor-core linear: inputs split into hi + lo halves keep ~16 bits, so 2⁻¹⁶ relative, with margin. */
    static final double TENSOR_CORE_TOLERANCE = 1e-4;

    private final Backend expected, actual;
    private final Arena arena;
    private final Random rnd;

    KernelParity(Backend expected, Backend actual, Arena arena, long seed) {
        this.expected = expected;
        this.actual = actual;
        this.arena = arena;
        this.rnd = new Random(seed);
    }

    float[] random(int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * scale);
        return a;
    }

    Tensor tensor(String name, DType dtype, float[] values, long... shape) {
        MemorySegment data = arena.allocate((long) values.length * dtype.byteSize());
        for (int i = 0; i < values.length; i++) {
            switch (dtype) {
                case F32 -> data.setAtIndex(ValueLayout.JAVA_FLOAT, i, values[i]);
                case F16 -> data.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(values[i]));
                case BF16 -> data.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (Float.floatToRawIntBits(values[i]) >>> 16));
            }
        }
        return new Tensor(name, dtype, shape, data);
    }

    /** Both backends' linear, every activation, with and without a bias. */
    void linear(DType dtype, int rows, int in, int out) {
        float[] w = random(out * in, 0.05f), b = random(out, 0.5f), x = random(rows * in, 1f);
        for (boolean withBias : new boolean[] {true, false}) {
            Tensor bias = withBias ? tensor("b", DType.F32, b, out) : null;
            LinearWeights ew = expected.prepareLinear(tensor("w", dtype, w, out, in), bias);
            LinearWeights aw = actual.prepareLinear(tensor("w", dtype, w, out, in), bias);
            float[] product = new float[rows * out];
            expected.linear(x, rows, ew, product, Activation.NONE);
            double scale = maxAbs(product);
            for (Activation act : Activation.values()) {
                float[] e = new float[rows * out], a = new float[rows * out];
                expected.linear(x, rows, ew, e, act);
                actual.linear(x, rows, aw, a, act);
                assertWithin(e, a, (dtype == DType.F32 ? F32_TOLERANCE : TENSOR_CORE_TOLERANCE) * scale,
                        "linear " + dtype + " " + rows + "×" + in + "→" + out + " " + act + (withBias ? " + bias" : ""));
            }
        }
    }

    void addLayerNorm(int rows, int dim) {
        float[] x = random(rows * dim, 3f), res = random(rows * dim, 1f);
        float[] gamma = random(dim, 1f), beta = random(dim, 0.2f);
        for (float[] residual : new float[][] {null, res}) {
            float[] e = x.clone(), a = x.clone();
            expected.addLayerNorm(e, residual, rows, dim, gamma, beta, 1e-12f);
            actual.addLayerNorm(a, residual, rows, dim, gamma, beta, 1e-12f);
            assertClose(e, a, F32_TOLERANCE, "layernorm " + rows + "×" + dim + (residual == null ? "" : " + residual"));
        }
    }

    /**
     * Rotary self-attention with a window: the product, the rotation by position and windowed attention, both backends
     * from the same weights and inputs.
     */
    void rotarySelfAttention(int[] seqStarts, int[] keyLengths, int heads, int headDim, int window) {
        int tokens = seqStarts[seqStarts.length - 1], hidden = heads * headDim;
        float[] w = random(3 * hidden * hidden, 0.2f), b = random(3 * hidden, 0.2f), x = random(tokens * hidden, 1f);
        dev.rerank4j.backend.RotaryTable rope = dev.rerank4j.backend.RotaryTable.of(headDim, 10_000.0, 512);
        float[] e = new float[tokens * hidden], a = new float[tokens * hidden];
        ((dev.rerank4j.backend.RotaryEncoderKernels) expected).rotarySelfAttention(x, seqStarts, keyLengths,
                expected.prepareLinear(tensor("w", DType.F32, w, 3 * hidden, hidden), tensor("b", DType.F32, b, 3 * hidden)), rope, window,
                new float[tokens * 3 * hidden], heads, headDim, e);
        ((dev.rerank4j.backend.RotaryEncoderKernels) actual).rotarySelfAttention(x, seqStarts, keyLengths,
                actual.prepareLinear(tensor("w", DType.F32, w, 3 * hidden, hidden), tensor("b", DType.F32, b, 3 * hidden)), rope, window,
                new float[tokens * 3 * hidden], heads, headDim, a);
        assertClose(e, a, F32_TOLERANCE, "rotary attention " + Arrays.toString(seqStarts) + " window " + window + " heads " + heads
                + " headDim " + headDim + (keyLengths == null ? "" : " keys " + Arrays.toString(keyLengths)));
    }

    /** DeBERTa's attention, both backends: distances mapped to rows as a bucketed model maps them, each term on and off. */
    void disentangledAttention(int[] seqStarts, int heads, int headDim, int span) {
        int tokens = seqStarts[seqStarts.length - 1], longest = 0, width = 3 * heads * headDim;
        for (int b = 0; b + 1 < seqStarts.length; b++) longest = Math.max(longest, seqStarts[b + 1] - seqStarts[b]);
        int[] rows = new int[2 * longest - 1];
        for (int d = -(longest - 1); d < longest; d++) rows[d + longest - 1] = Math.clamp(Integer.signum(d) * (long) Math.min(Math.abs(d), span - 1) + span, 0, 2 * span - 1);
        float[] qkv = random(tokens * width, 1f), positions = random(2 * span * width, 1f);
        float scale = (float) (1 / Math.sqrt(headDim * 3.0));
        for (boolean[] terms : new boolean[][] {{true, true}, {false, true}, {true, false}}) {
            float[] e = random(tokens * heads * headDim, 1f), a = e.clone();
            ((dev.rerank4j.backend.RelativeAttentionKernels) expected).disentangledAttention(qkv, seqStarts, positions, rows, terms[0], terms[1],
                    scale, heads, headDim, e);
            ((dev.rerank4j.backend.RelativeAttentionKernels) actual).disentangledAttention(qkv, seqStarts, positions, rows, terms[0], terms[1],
                    scale, heads, headDim, a);
            assertClose(e, a, F32_TOLERANCE, "disentangled attention " + Arrays.toString(seqStarts) + " headDim " + headDim
                    + " c2p " + terms[0] + " p2c " + terms[1]);
        }
    }

    /** The GeGLU feed-forward, both backends. */
    void gatedFeedForward(int rows, int in, int width) {
        float[] w1 = random(2 * width * in, 0.3f), b1 = random(2 * width, 0.3f), w2 = random(in * width, 0.3f), x = random(rows * in, 1f);
        float[] e = new float[rows * in], a = new float[rows * in];
        for (Backend backend : new Backend[] {expected, actual}) {
            ((dev.rerank4j.backend.RotaryEncoderKernels) backend).gatedFeedForward(x, rows,
                    backend.prepareLinear(tensor("w1", DType.F32, w1, 2L * width, in), tensor("b1", DType.F32, b1, 2L * width)),
                    backend.prepareLinear(tensor("w2", DType.F32, w2, in, width), null), new float[rows * 2 * width], new float[rows * width],
                    backend == expected ? e : a);
        }
        assertClose(e, a, F32_TOLERANCE, "gated feed-forward " + rows + "×" + in + " width " + width);
    }

    /** x += delta, normed = LayerNorm(x), both backends: the sum and the norm. */
    void addAndNormalize(int rows, int dim) {
        float[] x = random(rows * dim, 3f), delta = random(rows * dim, 1f), gamma = random(dim, 1f), beta = random(dim, 0.2f);
        float[] ex = x.clone(), ax = x.clone(), en = new float[rows * dim], an = new float[rows * dim];
        ((dev.rerank4j.backend.RotaryEncoderKernels) expected).addAndNormalize(ex, delta, rows, dim, gamma, beta, 1e-5f, en);
        ((dev.rerank4j.backend.RotaryEncoderKernels) actual).addAndNormalize(ax, delta, rows, dim, gamma, beta, 1e-5f, an);
        assertClose(ex, ax, F32_TOLERANCE, "the sum, " + rows + "×" + dim);
        assertClose(en, an, F32_TOLERANCE, "its norm, " + rows + "×" + dim);
    }

    /** Outputs start as the same random values, so rows a kernel must leave alone are checked too. */
    void attention(int[] seqStarts, int[] keyLengths, int heads, int headDim) {
        int tokens = seqStarts[seqStarts.length - 1];
        float[] qkv = random(tokens * 3 * heads * headDim, 1f);
        float[] e = random(tokens * heads * headDim, 1f), a = e.clone();
        expected.attention(qkv, seqStarts, keyLengths, heads, headDim, e);
        actual.attention(qkv, seqStarts, keyLengths, heads, headDim, a);
        assertClose(e, a, F32_TOLERANCE, "attention " + Arrays.toString(seqStarts) + (keyLengths == null ? "" : " keys "
                + Arrays.toString(keyLengths)) + " heads " + heads + " headDim " + headDim);
    }

    void maxSim(int queryTokens, int[] docOffsets, int dim) {
        float[] query = random(queryTokens * dim, 0.1f), docs = random(docOffsets[docOffsets.length - 1] * dim, 0.1f);
        float[] e = new float[docOffsets.length - 1], a = new float[docOffsets.length - 1];
        expected.maxSim(query, queryTokens, docs, docOffsets, dim, e);
        actual.maxSim(query, queryTokens, docs, docOffsets, dim, a);
        for (int k = 0; k + 1 < docOffsets.length; k++) {
            if (docOffsets[k + 1] == docOffsets[k]) assertEquals(0f, a[k], "a document without rows scores 0");
        }
        assertClose(e, a, F32_TOLERANCE, "maxSim " + queryTokens + " query tokens, offsets " + Arrays.toString(docOffsets));
        // candidates last to first, the last one twice: each backend gathers them its own way
        int[] candidates = new int[docOffsets.length];
        for (int i = 0; i + 1 < docOffsets.length; i++) candidates[i] = docOffsets.length - 2 - i;
        candidates[docOffsets.length - 1] = docOffsets.length - 2;
        float[] ec = new float[candidates.length], ac = new float[candidates.length];
        expected.maxSim(query, queryTokens, docs, docOffsets, candidates, dim, ec);
        actual.maxSim(query, queryTokens, docs, docOffsets, candidates, dim, ac);
        for (int i = 0; i < candidates.length; i++) assertEquals(e[candidates[i]], ec[i], "candidate " + i + " scores as its document");
        assertClose(ec, ac, F32_TOLERANCE, "maxSim of candidates " + Arrays.toString(candidates));
    }

    /** Every element within {@code relative} × the largest |expected value|. */
    static void assertClose(float[] expected, float[] actual, double relative, String what) {
        assertWithin(expected, actual, relative * maxAbs(expected), what);
    }

    /** Every element within {@code tolerance}. */
    static void assertWithin(float[] expected, float[] actual, double tolerance, String what) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            int at = i;
            assertEquals(expected[i], actual[i], tolerance, () -> what + ": element " + at);
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        System.out.printf("%s: max |Δ| %.2e (bar %.2e, max |value| %.2e)%n", what, worst, tolerance, maxAbs(expected));
    }

    static double maxAbs(float[] values) {
        double max = 1e-30;
        for (float v : values) max = Math.max(max, Math.abs(v));
        return max;
    }
}
