package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.HalfInputBackend;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Self-attention for each sequence's first token only, as a classifier's last layer needs it, which the CPU
 * computes from the layer's input without any token's keys or values.
 */
class FirstTokenSelfAttentionTest {
    /**
     * Against full self-attention's rows in F32 and the double-precision twin (on the twin's Q, K, V rounded to F32).
     * The sums run in another order (x_j·(W_kᵀq) instead of q·k_j, W_v·Σ_j p_j·x_j instead of Σ_j p_j·(W_v·x_j)); on
     * these cases, outputs up to ≈ 5, this path is within 1.3e-5 of both, as close as the full path is to the twin
     * (1.5e-5; measured 2026-12-05), so the bound leaves a few times that.
     */
    private static final double ABS = 5e-5;
    /** Weights up to this over √in: q, k and v of order 1 and scores of a few units, as in a trained model. */
    private static final float WEIGHT_SCALE = 3f;
    private static final CpuBackend backend = new CpuBackend(2);

    @AfterAll
    static void close() {
        backend.close();
    }

    /** Full self-attention's row starts[b], for every b, from {@code on}. */
    private static float[] firstRowsOfFull(Backend on, float[] x, int[] starts, LinearWeights w, int heads, int hd) {
        int width = heads * hd, seqs = starts.length - 1;
        float[] all = new float[starts[seqs] * width];
        on.selfAttention(x, starts, null, w, new float[starts[seqs] * 3 * width], heads, hd, all);
        float[] first = new float[seqs * width];
        for (int b = 0; b < seqs; b++) System.arraycopy(all, starts[b] * width, first, b * width, width);
        return first;
    }

    /** The largest |full − twin| seen, for the printout: what the full path's own rounding is. */
    private static double fullWorst;

    private static double check(int[] lengths, int heads, int hd, int in, long seed) {
        Random rnd = new Random(seed);
        int[] starts = TestTensors.starts(lengths);
        int seqs = lengths.length, width = heads * hd, tokens = starts[seqs];
        Tensor wt = TestTensors.of("qkv", DType.F32, TestTensors.random(rnd, 3 * width * in, WEIGHT_SCALE / (float) Math.sqrt(in)), 3 * width, in);
        Tensor bt = TestTensors.of("b", DType.F32, TestTensors.random(rnd, 3 * width, 1f), 3 * width);
        LinearWeights w = backend.prepareLinear(wt, bt);
        float[] x = TestTensors.random(rnd, tokens * in, 2f);
        float[] out = new float[seqs * width];
        backend.firstTokenSelfAttention(x, starts, w, new float[tokens * 3 * width], heads, hd, out);

        float[] full = firstRowsOfFull(backend, x, starts, w, heads, hd);
        double[] qkvTwin = ScalarKernels.linear(x, tokens, wt, bt)[0];
        float[] qkv = new float[qkvTwin.length];
        for (int i = 0; i < qkv.length; i++) qkv[i] = (float) qkvTwin[i];
        double[] twin = ScalarKernels.attention(qkv, starts, heads, hd);
        double worst = 0;
        for (int b = 0; b < seqs; b++) {
            for (int i = 0; i < width; i++) {
                float actual = out[b * width + i];
                double expectedTwin = twin[starts[b] * width + i], expectedFull = full[b * width + i];
                worst = Math.max(worst, Math.max(Math.abs(actual - expectedTwin), Math.abs(actual - expectedFull)));
                fullWorst = Math.max(fullWorst, Math.abs(expectedFull - expectedTwin));
                if (!(Math.abs(actual - expectedTwin) <= ABS) || !(Math.abs(actual - expectedFull) <= ABS)) {
                    fail("lengths " + java.util.Arrays.toString(lengths) + ", " + heads + " × " + hd + ", in " + in + ": sequence " + b
                            + " element " + i + ": " + actual + " vs full " + expectedFull + ", twin " + expectedTwin);
                }
            }
        }
        return worst;
    }

    @Test
    void equalsTheFirstRowsOfFullSelfAttentionAndTheTwin() {
        double worst = 0;
        worst = Math.max(worst, check(new int[] {1, 7, 33, 130}, 3, 32, 96, 1));
        worst = Math.max(worst, check(new int[] {130, 2, 17}, 2, 64, 128, 2));
        worst = Math.max(worst, check(new int[] {5, 31, 16}, 3, 24, 72, 3));       // heads across panel edges
        worst = Math.max(worst, check(new int[] {9, 1, 40}, 2, 13, 26, 4));        // TinyBERT-like odd head dims, in not a vector multiple
        worst = Math.max(worst, check(new int[] {3, 383}, 2, 32, 17, 5));           // input narrower than a vector, and longer than the attention kernel's key block
        worst = Math.max(worst, check(new int[] {140}, 12, 64, 768, 6));            // one bge-reranker-base pair
        worst = Math.max(worst, check(java.util.stream.IntStream.range(0, 40).map(i -> 1 + i * 7 % 61).toArray(), 12, 32, 384, 7)); // a MiniLM batch
        System.out.printf("first-token self-attention: max |Δ| against full self-attention and the twin = %.2e (full against the twin: %.2e)%n",
                worst, fullWorst);
    }

    @Test
    void theDefaultMethodKeepsTheFirstRowsOfFullSelfAttention() {
        // HalfInputBackend does not override firstTokenSelfAttention: the interface's default runs (as on CUDA).
        try (HalfInputBackend fallback = new HalfInputBackend(1, true)) {
            Random rnd = new Random(8);
            int[] starts = TestTensors.starts(4, 1, 19);
            int heads = 2, hd = 32, width = heads * hd, in = 48, tokens = starts[3];
            Tensor wt = TestTensors.of("qkv", DType.F32, TestTensors.random(rnd, 3 * width * in, 0.3f), 3 * width, in);
            LinearWeights onFallback = fallback.prepareLinear(wt, null), onCpu = backend.prepareLinear(wt, null);
            float[] x = TestTensors.random(rnd, tokens * in, 2f);
            float[] out = new float[3 * width];
            fallback.firstTokenSelfAttention(x, starts, onFallback, new float[tokens * 3 * width], heads, hd, out);
            float[] expected = firstRowsOfFull(backend, x, starts, onCpu, heads, hd);
            for (int i = 0; i < expected.length; i++) {
                if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(out[i])) {
                    fail("element " + i + ": full " + expected[i] + " vs the default's " + out[i]);
                }
            }
        }
    }

    @Test
    void refusesEmptySequencesShortOutputsAndWeightsOfTheWrongWidth() {
        LinearWeights w = backend.prepareLinear(TestTensors.of("qkv", DType.F32, new float[3 * 32 * 8], 3 * 32, 8), null);
        float[] x = new float[6 * 8], qkv = new float[6 * 3 * 32];
        var empty = assertThrows(IllegalArgumentException.class,
                () -> backend.firstTokenSelfAttention(x, TestTensors.starts(3, 0, 3), w, qkv, 1, 32, new float[3 * 32]));
        assertTrue(empty.getMessage().contains("sequence 1 is empty"), empty.getMessage());
        var shortOut = assertThrows(IllegalArgumentException.class,
                () -> backend.firstTokenSelfAttention(x, TestTensors.starts(3, 3), w, qkv, 1, 32, new float[32]));
        assertTrue(shortOut.getMessage().contains("out holds 32 floats, needs 64"), shortOut.getMessage());
        var width = assertThrows(IllegalArgumentException.class,
                () -> backend.firstTokenSelfAttention(x, TestTensors.starts(3, 3), w, qkv, 2, 32, new float[2 * 64]));
        assertTrue(width.getMessage().contains("need 3 · 2 · 32 outputs, got 96"), width.getMessage());
        var shortX = assertThrows(IllegalArgumentException.class,
                () -> backend.firstTokenSelfAttention(new float[5 * 8], TestTensors.starts(3, 3), w, qkv, 1, 32, new float[64]));
        assertTrue(shortX.getMessage().contains("x holds 40 floats, needs 48"), shortX.getMessage());
    }
}
