package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.backend.RotaryTable;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU backend's {@link dev.rerank4j.backend.RotaryEncoderKernels} (ModernBERT's) against their scalar twins:
 * windowed attention, the rotation, rotary self-attention over both of its paths, the gated feed-forward and the
 * residual step.
 */
class RotaryEncoderKernelsTest {
    private static final CpuBackend backend = new CpuBackend(2);
    private static final ParallelFor pf = new ParallelFor(2);

    @AfterAll
    static void close() {
        backend.close();
        pf.shutdown();
    }


    /**
     * Windows of none, one and eight keys either side, ModernBERT's 64, and windows ending at and across the kernel's
     * 256-key blocks, over sequences up to 600 tokens, with heads that fill vectors and heads that do not.
     */
    @Test
    void windowedAttentionMatchesTheNaiveTwin() {
        for (int hd : new int[] {64, 8, 24}) {
            int[] starts = TestTensors.starts(1, 7, 40, 300, 600, 129);
            int heads = 2, tokens = starts[starts.length - 1];
            float[] qkv = TestTensors.random(new Random(hd), tokens * 3 * heads * hd, 1f);
            for (int window : new int[] {0, 1, 8, 64, 200, 255, 256, 300, 599, 5000}) {
                double[] expected = ScalarKernels.attention(qkv, starts, window, heads, hd);
                for (AttentionKernel.Blocking blocking : AttentionTest.BLOCKINGS) {
                    float[] out = new float[tokens * heads * hd];
                    Arrays.fill(out, Float.NaN);
                    AttentionKernel.attention(qkv, starts, null, window, heads, hd, out, pf, blocking);
                    TestTensors.assertClose(expected, out, AttentionTest.ATTENTION_ABS, "hd " + hd + ", window " + window + ", " + blocking);
                }
            }
        }
    }

    /** Key lengths with a window: queries up to the window past the last key, and a window wider than the keys but not the queries. */
    @Test
    void windowedAttentionWithKeyLengthsMatchesTheNaiveTwin() {
        int heads = 2, hd = 32;
        int[] starts = TestTensors.starts(40, 300, 12, 90);
        int[] keys = {25, 290, 3, 90};
        int tokens = starts[starts.length - 1];
        float[] qkv = TestTensors.random(new Random(21), tokens * 3 * heads * hd, 1f);
        for (int window : new int[] {15, 30, 64, 88, 500}) {
            double[] expected = ScalarKernels.attention(qkv, starts, keys, window, heads, hd);
            for (AttentionKernel.Blocking blocking : AttentionTest.BLOCKINGS) {
                float[] out = new float[tokens * heads * hd];
                Arrays.fill(out, Float.NaN);
                AttentionKernel.attention(qkv, starts, keys, window, heads, hd, out, pf, blocking);
                TestTensors.assertClose(expected, out, AttentionTest.ATTENTION_ABS, "window " + window + ", " + blocking);
            }
        }
    }

    @Test
    void tokensWhoseWindowHoldsNoKeyAreRefused() {
        int heads = 1, hd = 8;
        LinearWeights w = weights(3 * hd, hd, 1);
        RotaryTable rope = RotaryTable.of(hd, 10_000.0, 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.rotarySelfAttention(new float[10 * hd],
                TestTensors.starts(10), new int[] {3}, w, rope, 6, new float[10 * 3 * hd], heads, hd, new float[10 * hd]));
        assertTrue(e.getMessage().contains("would attend to nothing"), e.getMessage());
    }

    /** The rotation against angles in double; at position 600 the table's float angles differ by up to 4e-5 rad. */
    @Test
    void rotationMatchesTheNaiveTwin() {
        for (int hd : new int[] {64, 32, 8, 6}) {
            int[] starts = TestTensors.starts(3, 600, 1, 45);
            int heads = 3, tokens = starts[starts.length - 1];
            float[] qkv = TestTensors.random(new Random(7 + hd), tokens * 3 * heads * hd, 1f);
            double[] expected = ScalarKernels.rotate(qkv, starts, heads, hd, 10_000.0);
            RotaryTable rope = RotaryTable.of(hd, 10_000.0, 600);
            float[] rotated = qkv.clone();
            RotaryKernel.rotate(rotated, 0, starts, 0, starts.length - 1, heads, hd, rope);
            TestTensors.assertClose(expected, rotated, 1e-4, "hd " + hd);
            for (int t = 0; t < tokens; t++) { // V is never rotated
                int v = t * 3 * heads * hd + 2 * heads * hd;
                assertArrayEquals(Arrays.copyOfRange(qkv, v, v + heads * hd), Arrays.copyOfRange(rotated, v, v + heads * hd));
            }
        }
    }

    /** Sequences [1, 3) rotated alone, their rows elsewhere: each token's position counts from its own sequence's start. */
    @Test
    void positionsCountFromEachSequencesStart() {
        int heads = 1, hd = 32, stride = 3 * heads * hd;
        int[] starts = TestTensors.starts(5, 9, 4);
        float[] qkv = TestTensors.random(new Random(11), 18 * stride, 1f);
        RotaryTable rope = RotaryTable.of(hd, 160_000.0, 16);
        float[] all = qkv.clone();
        RotaryKernel.rotate(all, 0, starts, 0, 3, heads, hd, rope);
        float[] moved = Arrays.copyOfRange(qkv, 5 * stride, 18 * stride);
        RotaryKernel.rotate(moved, 0, starts, 1, 3, heads, hd, rope);
        assertArrayEquals(Arrays.copyOfRange(all, 5 * stride, 18 * stride), moved);
        assertArrayEquals(Arrays.copyOfRange(qkv, 0, stride), Arrays.copyOfRange(all, 0, stride), "position 0 is not rotated");
    }

    private static LinearWeights weights(int out, int in, long seed) {
        Random rnd = new Random(seed);
        return backend.prepareLinear(TestTensors.of("w", DType.F32, TestTensors.random(rnd, out * in, 0.2f), out, in),
                TestTensors.of("b", DType.F32, TestTensors.random(rnd, out, 0.2f), out));
    }

    /**
     * The whole rotary self-attention, by groups of sequences (many short ones) and over the whole batch (a few long
     * ones): bit for bit the product, the rotation and windowed attention one after another.
     */
    @Test
    void rotarySelfAttentionIsTheProductThenTheRotationThenAttention() {
        int heads = 4, hd = 16, hidden = heads * hd;
        for (int[] lengths : new int[][] {{300, 17, 500}, randomLengths(new Random(5), 60, 1, 200)}) {
            int[] starts = TestTensors.starts(lengths);
            int tokens = starts[lengths.length];
            LinearWeights w = weights(3 * hidden, hidden, 9);
            float[] x = TestTensors.random(new Random(13), tokens * hidden, 1f);
            RotaryTable rope = RotaryTable.of(hd, 10_000.0, 512);
            for (int window : new int[] {8, 64, Integer.MAX_VALUE}) {
                float[] qkv = new float[tokens * 3 * hidden], expected = new float[tokens * hidden];
                backend.linear(x, tokens, w, qkv, Activation.NONE);
                RotaryKernel.rotate(qkv, 0, starts, 0, lengths.length, heads, hd, rope);
                AttentionKernel.attention(qkv, starts, null, window, heads, hd, expected, pf, AttentionKernel.Blocking.DEFAULT);
                float[] actual = new float[tokens * hidden];
                backend.rotarySelfAttention(x, starts, null, w, rope, window, new float[tokens * 3 * hidden], heads, hd, actual);
                assertArrayEquals(expected, actual, lengths.length + " sequences, window " + window);
            }
        }
    }

    private static int[] randomLengths(Random rnd, int n, int min, int max) {
        int[] lengths = new int[n];
        for (int b = 0; b < n; b++) lengths[b] = min + rnd.nextInt(max - min + 1);
        return lengths;
    }

    @Test
    void sequencesLongerThanTheRotaryTableAreRefused() {
        int heads = 1, hd = 8;
        LinearWeights w = weights(3 * hd, hd, 1);
        RotaryTable rope = RotaryTable.of(hd, 10_000.0, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.rotarySelfAttention(new float[5 * hd],
                TestTensors.starts(5), null, w, rope, 2, new float[5 * 3 * hd], heads, hd, new float[5 * hd]));
        assertTrue(e.getMessage().contains("more than the 4 positions"), e.getMessage());
    }

    /** (GELU(u) ⊙ g)·W_outᵀ + b_out, [u | g] = x·W_inᵀ + b_in, for widths that fill vectors and one that does not. */
    @Test
    void gatedFeedForwardMatchesTheNaiveTwin() {
        for (int width : new int[] {48, 37, 1152}) {
            int rows = 23, hidden = 32;
            Random rnd = new Random(width);
            Tensor inW = TestTensors.of("in.w", DType.F32, TestTensors.random(rnd, 2 * width * hidden, 0.3f), 2L * width, hidden);
            Tensor inB = TestTensors.of("in.b", DType.F32, TestTensors.random(rnd, 2 * width, 0.3f), 2L * width);
            Tensor outW = TestTensors.of("out.w", DType.F32, TestTensors.random(rnd, hidden * width, 0.3f), hidden, width);
            Tensor outB = TestTensors.of("out.b", DType.F32, TestTensors.random(rnd, hidden, 0.3f), hidden);
            float[] x = TestTensors.random(rnd, rows * hidden, 1f);
            double[] u = ScalarKernels.linear(x, rows, inW, inB)[0];
            float[] gated = new float[rows * width];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < width; j++) {
                    gated[r * width + j] = (float) (ScalarKernels.gelu(u[r * 2 * width + j]) * u[r * 2 * width + width + j]);
                }
            }
            double[] expected = ScalarKernels.linear(gated, rows, outW, outB)[0];
            float[] y = new float[rows * hidden];
            backend.gatedFeedForward(x, rows, backend.prepareLinear(inW, inB), backend.prepareLinear(outW, outB),
                    new float[rows * 2 * width], new float[rows * width], y);
            TestTensors.assertClose(expected, y, 1e-4 * Math.sqrt(width), "width " + width);
        }
    }

    @Test
    void gatedFeedForwardRefusesAFirstProductOfTheWrongWidth() {
        LinearWeights in = weights(10, 4, 1), out = weights(4, 4, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.gatedFeedForward(new float[4], 1, in, out, new float[10], new float[4], new float[4]));
        assertTrue(e.getMessage().contains("twice the 4 inputs"), e.getMessage());
    }

    /** x keeps x + delta, rounded to float as PyTorch adds; normed is its LayerNorm, x's own rows untouched otherwise. */
    @Test
    void addAndNormalizeKeepsTheSumAndWritesItsNorm() {
        int rows = 37, dim = 70;
        Random rnd = new Random(17);
        float[] x = TestTensors.random(rnd, rows * dim, 3f), delta = TestTensors.random(rnd, rows * dim, 3f);
        float[] gamma = TestTensors.random(rnd, dim, 1f), beta = TestTensors.random(rnd, dim, 1f);
        double[] expected = ScalarKernels.addLayerNorm(x, delta, rows, dim, gamma, beta, 1e-5f);
        float[] sum = new float[rows * dim];
        for (int i = 0; i < sum.length; i++) sum[i] = x[i] + delta[i];
        float[] normed = new float[rows * dim];
        backend.addAndNormalize(x, delta, rows, dim, gamma, beta, 1e-5f, normed);
        assertArrayEquals(sum, x);
        TestTensors.assertClose(expected, normed, 1e-5, "normed");
        assertEquals(IllegalArgumentException.class, assertThrows(IllegalArgumentException.class,
                () -> backend.addAndNormalize(x, delta, rows, dim, gamma, beta, 1e-5f, x)).getClass());
    }
}
