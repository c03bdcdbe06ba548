package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.backend.RotaryTable;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU backend's {@link dev.rerank4j.backend.DecoderKernels} (Qwen3's) against scalar twins in double: causal
 * grouped-query attention with per-head RMSNorm and RoPE, over every token and over the last ones only; RMSNorm with its
 * residual add; the SwiGLU feed-forward.
 */
class DecoderKernelsTest {
    private static final CpuBackend backend = new CpuBackend(2);

    @AfterAll
    static void close() {
        backend.close();
    }


    private static LinearWeights weights(int out, int in, long seed) {
        return backend.prepareLinear(TestTensors.of("w", DType.F32, TestTensors.random(new Random(seed), out * in, 0.3f), out, in), null);
    }

    /** x·Wᵀ in double, W as {@link #weights} draws it. */
    private static double[] product(float[] x, int rows, int out, int in, long seed) {
        float[] w = TestTensors.random(new Random(seed), out * in, 0.3f);
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double sum = 0;
                for (int i = 0; i < in; i++) sum += (double) x[r * in + i] * w[o * in + i];
                y[r * out + o] = sum;
            }
        }
        return y;
    }

    /** RMSNorm of a[at, +n) times γ, in double. */
    private static void rmsNorm(double[] a, int at, int n, float[] gamma, double eps) {
        double squares = 0;
        for (int i = 0; i < n; i++) squares += a[at + i] * a[at + i];
        double r = 1 / Math.sqrt(squares / n + eps);
        for (int i = 0; i < n; i++) a[at + i] = a[at + i] * r * gamma[i];
    }

    /** Dims i and i + d/2 of a[at, +d) rotated by p·θ^(−2i/d). */
    private static void rotate(double[] a, int at, int hd, int p, double theta) {
        for (int i = 0; i < hd / 2; i++) {
            double angle = p * Math.pow(theta, -2.0 * i / hd), x1 = a[at + i], x2 = a[at + hd / 2 + i];
            a[at + i] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
            a[at + hd / 2 + i] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
        }
    }

    /**
     * The naive causal attention: Q/K/V = x·Wᵀ; heads of Q and K RMS-normed and rotated; query i of head h over keys 0..i of
     * key/value head h / (heads / kvHeads); one output row per token, or per sequence's last token.
     */
    private static double[] causalAttention(float[] x, int[] starts, int hidden, long seed, float[] qGamma, float[] kGamma, float eps,
                                            double theta, int heads, int kvHeads, int hd, boolean lastOnly) {
        int tokens = starts[starts.length - 1], width = (heads + 2 * kvHeads) * hd, group = heads / kvHeads;
        double[] qkv = product(x, tokens, width, hidden, seed);
        for (int b = 0; b + 1 < starts.length; b++) {
            for (int t = starts[b]; t < starts[b + 1]; t++) {
                for (int h = 0; h < heads + kvHeads; h++) {
                    if (qGamma != null) rmsNorm(qkv, t * width + h * hd, hd, h < heads ? qGamma : kGamma, eps);
                    rotate(qkv, t * width + h * hd, hd, t - starts[b], theta);
                }
            }
        }
        return attend(qkv, starts, heads, kvHeads, hd, lastOnly);
    }

    /** Causal grouped-query attention over Q, K, V as they are, in double. */
    private static double[] attend(double[] qkv, int[] starts, int heads, int kvHeads, int hd, boolean lastOnly) {
        int tokens = starts[starts.length - 1], width = (heads + 2 * kvHeads) * hd, group = heads / kvHeads;
        double[] out = new double[(lastOnly ? starts.length - 1 : tokens) * heads * hd];
        for (int b = 0; b + 1 < starts.length; b++) {
            for (int i = lastOnly ? starts[b + 1] - 1 : starts[b]; i < starts[b + 1]; i++) {
                int row = lastOnly ? b : i;
                for (int h = 0; h < heads; h++) {
                    int g = h / group;
                    double[] s = new double[i - starts[b] + 1];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = starts[b]; j <= i; j++) {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) dot += qkv[i * width + h * hd + d] * qkv[j * width + (heads + g) * hd + d];
                        s[j - starts[b]] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[j - starts[b]]);
                    }
                    for (int j = 0; j < s.length; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int d = 0; d < hd; d++) {
                        double v = 0;
                        for (int j = starts[b]; j <= i; j++) v += s[j - starts[b]] * qkv[j * width + (heads + kvHeads + g) * hd + d];
                        out[(row * heads + h) * hd + d] = v / sum;
                    }
                }
            }
        }
        return out;
    }

    /**
     * Head sizes that fill vectors (128, Qwen3's) and that do not (24, 8), groups of 1, 2 and 4 query heads per key/value
     * head, sequences of 1 token to past the kernel's four-vector key blocks, every token and the last ones only; heads
     * RMS-normed (Qwen3) and not (Qwen2).
     */
    @Test
    void causalSelfAttentionMatchesTheNaiveTwin() {
        int[][] shapes = {{128, 4, 2}, {24, 4, 1}, {8, 2, 2}, {24, 8, 2}};
        for (int[] shape : shapes) {
            int hd = shape[0], heads = shape[1], kvHeads = shape[2], hidden = 48;
            int[] starts = TestTensors.starts(1, 2, 17, 70, 300);
            int tokens = starts[starts.length - 1], width = (heads + 2 * kvHeads) * hd;
            Random rnd = new Random(hd * 31L + heads);
            float[] x = TestTensors.random(rnd, tokens * hidden, 1f);
            float[] qGamma = TestTensors.random(rnd, hd, 1.5f), kGamma = TestTensors.random(rnd, hd, 1.5f);
            RotaryTable rope = RotaryTable.of(hd, 1_000_000.0, 300);
            LinearWeights w = weights(width, hidden, hd);
            for (boolean normed : new boolean[] {true, false}) {
                float[] q = normed ? qGamma : null, k = normed ? kGamma : null;
                for (boolean lastOnly : new boolean[] {false, true}) {
                    double[] expected = causalAttention(x, starts, hidden, hd, q, k, 1e-6f, 1_000_000.0, heads, kvHeads, hd, lastOnly);
                    float[] out = new float[expected.length];
                    Arrays.fill(out, Float.NaN);
                    backend.causalSelfAttention(x, starts, w, q, k, 1e-6f, rope, new float[tokens * width], heads, kvHeads, hd, lastOnly, out);
                    TestTensors.assertClose(expected, out, 1e-4, "hd " + hd + ", " + heads + "/" + kvHeads + " heads, lastOnly " + lastOnly + ", normed " + normed);
                }
            }
        }
    }

    /**
     * The attention kernel alone with four and eight queries a block, in passes of one block and of many, sequences across
     * its 256-key blocks.
     */
    @Test
    void causalAttentionMatchesTheNaiveTwinWithEitherBlockOfQueries() {
        int hd = 24, heads = 6, kvHeads = 2, width = (heads + 2 * kvHeads) * hd;
        int[] starts = TestTensors.starts(3, 255, 257, 600, 1);
        int tokens = starts[starts.length - 1];
        float[] qkv = TestTensors.random(new Random(8), tokens * width, 1f);
        double[] exact = new double[qkv.length];
        for (int i = 0; i < qkv.length; i++) exact[i] = qkv[i];
        ParallelFor pf = new ParallelFor(2);
        try {
            for (boolean lastOnly : new boolean[] {false, true}) {
                double[] expected = attend(exact, starts, heads, kvHeads, hd, lastOnly);
                java.util.Map<Integer, float[]> byHeight = new java.util.HashMap<>();
                for (AttentionKernel.Blocking blocking : AttentionTest.BLOCKINGS) {
                    float[] out = new float[expected.length];
                    Arrays.fill(out, Float.NaN);
                    AttentionKernel.causal(qkv, starts, heads, kvHeads, hd, lastOnly, out, pf, blocking);
                    TestTensors.assertClose(expected, out, AttentionTest.ATTENTION_ABS, blocking + ", lastOnly " + lastOnly);
                    float[] other = byHeight.putIfAbsent(blocking.queriesPerBlock(), out);
                    if (other != null) assertArrayEquals(other, out, blocking + ": as in passes of one block");
                }
            }
        } finally {
            pf.shutdown();
        }
    }

    /** A sequence's outputs do not depend on the sequences beside it, nor on tokens after it (causality). */
    @Test
    void aTokenSeesNoLaterTokenAndNoOtherSequence() {
        int hd = 24, heads = 4, kvHeads = 2, hidden = 32, width = (heads + 2 * kvHeads) * hd;
        float[] x = TestTensors.random(new Random(3), 50 * hidden, 1f);
        float[] qGamma = TestTensors.random(new Random(4), hd, 1f), kGamma = TestTensors.random(new Random(5), hd, 1f);
        RotaryTable rope = RotaryTable.of(hd, 10_000.0, 64);
        LinearWeights w = weights(width, hidden, 6);
        float[] whole = new float[50 * heads * hd], prefix = new float[20 * heads * hd];
        backend.causalSelfAttention(x, TestTensors.starts(50), w, qGamma, kGamma, 1e-6f, rope, new float[50 * width], heads, kvHeads, hd, false, whole);
        backend.causalSelfAttention(Arrays.copyOf(x, 20 * hidden), TestTensors.starts(20), w, qGamma, kGamma, 1e-6f, rope, new float[20 * width], heads,
                kvHeads, hd, false, prefix);
        assertArrayEquals(prefix, Arrays.copyOf(whole, prefix.length), 1e-6f, "the first 20 tokens with or without the 30 after them");
        float[] split = new float[50 * heads * hd];
        backend.causalSelfAttention(x, TestTensors.starts(20, 30), w, qGamma, kGamma, 1e-6f, rope, new float[50 * width], heads, kvHeads, hd, false, split);
        assertArrayEquals(prefix, Arrays.copyOf(split, prefix.length), 1e-6f, "the first sequence beside a second");
        float[] withEmpty = new float[50 * heads * hd];
        backend.causalSelfAttention(x, TestTensors.starts(20, 0, 30), w, qGamma, kGamma, 1e-6f, rope, new float[50 * width], heads, kvHeads, hd, false,
                withEmpty);
        assertArrayEquals(split, withEmpty, "an empty sequence between them changes no position");
    }

    @Test
    void causalSelfAttentionRefusesInconsistentShapes() {
        int hd = 8;
        RotaryTable rope = RotaryTable.of(hd, 10_000.0, 16);
        float[] gamma = new float[hd];
        IllegalArgumentException wrongWidth = assertThrows(IllegalArgumentException.class, () -> backend.causalSelfAttention(new float[4 * 16],
                TestTensors.starts(4), weights(3 * hd, 16, 1), gamma, gamma, 1e-6f, rope, new float[4 * 64], 4, 2, hd, false, new float[4 * 32]));
        assertTrue(wrongWidth.getMessage().contains("need 64"), wrongWidth.getMessage());
        IllegalArgumentException groups = assertThrows(IllegalArgumentException.class, () -> backend.causalSelfAttention(new float[4 * 16],
                TestTensors.starts(4), weights(7 * hd, 16, 1), gamma, gamma, 1e-6f, rope, new float[4 * 56], 3, 2, hd, false, new float[4 * 24]));
        assertTrue(groups.getMessage().contains("bad heads/kvHeads/headDim: 3/2/8"), groups.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> backend.causalSelfAttention(new float[4 * 16],
                TestTensors.starts(4, 0), weights(4 * hd, 16, 1), gamma, gamma, 1e-6f, rope, new float[4 * 32], 2, 1, hd, true, new float[2 * 16]));
        assertTrue(empty.getMessage().contains("sequence 1 is empty"), empty.getMessage());
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class, () -> backend.causalSelfAttention(new float[17 * 16],
                TestTensors.starts(17), weights(4 * hd, 16, 1), gamma, gamma, 1e-6f, rope, new float[17 * 32], 2, 1, hd, false, new float[17 * 16]));
        assertTrue(tooLong.getMessage().contains("more than the 16 positions"), tooLong.getMessage());
        IllegalArgumentException oneNorm = assertThrows(IllegalArgumentException.class, () -> backend.causalSelfAttention(new float[4 * 16],
                TestTensors.starts(4), weights(4 * hd, 16, 1), gamma, null, 1e-6f, rope, new float[4 * 32], 2, 1, hd, false, new float[4 * 16]));
        assertTrue(oneNorm.getMessage().contains("qGamma and kGamma must both be given, or neither"), oneNorm.getMessage());
    }

    /** x keeps x + delta; normed is x·γ/√(mean(x²) + eps); without delta x is left as it is. */
    @Test
    void addAndRmsNormalizeKeepsTheSumAndWritesItsNorm() {
        for (int dim : new int[] {64, 70, 1024}) {
            int rows = 37;
            Random rnd = new Random(dim);
            float[] x = TestTensors.random(rnd, rows * dim, 3f), delta = TestTensors.random(rnd, rows * dim, 3f);
            float[] gamma = TestTensors.random(rnd, dim, 1f);
            double[] sum = new double[rows * dim];
            float[] summed = new float[rows * dim];
            for (int i = 0; i < sum.length; i++) sum[i] = summed[i] = x[i] + delta[i];
            for (int r = 0; r < rows; r++) rmsNorm(sum, r * dim, dim, gamma, 1e-6);
            float[] normed = new float[rows * dim];
            backend.addAndRmsNormalize(x, delta, rows, dim, gamma, 1e-6f, normed);
            assertArrayEquals(summed, x, "x holds x + delta, as float adds");
            TestTensors.assertClose(sum, normed, 1e-5 * 4, "dim " + dim);
            float[] before = x.clone();
            backend.addAndRmsNormalize(x, null, rows, dim, gamma, 1e-6f, normed);
            assertArrayEquals(before, x, "no delta: x unchanged");
        }
    }

    /** SiLU(g) ⊙ u through the second product, g the first half; gates far out on both sides (SiLU's exp must not overflow). */
    @Test
    void swiGluFeedForwardMatchesTheNaiveTwin() {
        for (int width : new int[] {48, 37, 3072}) {
            int rows = 23, hidden = 32;
            Random rnd = new Random(width);
            Tensor inW = TestTensors.of("in.w", DType.F32, TestTensors.random(rnd, 2 * width * hidden, 0.3f), 2L * width, hidden);
            Tensor outW = TestTensors.of("out.w", DType.F32, TestTensors.random(rnd, hidden * width, 0.3f), hidden, width);
            float[] x = TestTensors.random(rnd, rows * hidden, 1f);
            x[0] = 400f; // row 0's gates reach ±100 and beyond
            double[] h = ScalarKernels.linear(x, rows, inW, null)[0];
            float[] gated = new float[rows * width];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < width; j++) {
                    double g = h[r * 2 * width + j];
                    gated[r * width + j] = (float) (g / (1 + Math.exp(-g)) * h[r * 2 * width + width + j]);
                }
            }
            double[] expected = ScalarKernels.linear(gated, rows, outW, null)[0];
            float[] y = new float[rows * hidden];
            backend.swiGluFeedForward(x, rows, backend.prepareLinear(inW, null), backend.prepareLinear(outW, null),
                    new float[rows * 2 * width], new float[rows * width], y);
            double largest = 0;
            for (double e : expected) largest = Math.max(largest, Math.abs(e));
            TestTensors.assertClose(expected, y, 1e-5 * Math.max(1, largest), "width " + width);
        }
    }
}
