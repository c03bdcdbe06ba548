package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.HalfInputBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Attention for each sequence's first token only, as a classifier's last layer needs it. */
class FirstTokenAttentionTest {
    private static final CpuBackend backend = new CpuBackend(2);

    @AfterAll
    static void close() {
        backend.close();
    }

    private static int[] starts(int... lengths) {
        int[] starts = new int[lengths.length + 1];
        for (int b = 0; b < lengths.length; b++) starts[b + 1] = starts[b] + lengths[b];
        return starts;
    }

    /** Full attention's row starts[b], for every b, from {@code on}. */
    private static float[] firstRowsOfFull(Backend on, float[] qkv, int[] starts, int heads, int hd) {
        int width = heads * hd, seqs = starts.length - 1;
        float[] all = new float[starts[seqs] * width];
        on.attention(qkv, starts, heads, hd, all);
        float[] first = new float[seqs * width];
        for (int b = 0; b < seqs; b++) System.arraycopy(all, starts[b] * width, first, b * width, width);
        return first;
    }

    /**
     * The same code with one query as the full form: equal but for the order of the softmax sum's lanes, which
     * differs between the Vector API's Java fallback and C2's intrinsic (a few ulps of outputs ≤ 1).
     */
    private static void assertClose(float[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= 1e-6)) fail("element " + i + ": full " + expected[i] + " vs first-token " + actual[i]);
        }
    }

    private static void check(int[] lengths, int heads, int hd, long seed) {
        int[] starts = starts(lengths);
        int seqs = lengths.length, width = heads * hd;
        float[] qkv = TestTensors.random(new Random(seed), starts[seqs] * 3 * width, 1f);
        float[] out = new float[seqs * width];
        backend.firstTokenAttention(qkv, starts, heads, hd, out);
        assertClose(firstRowsOfFull(backend, qkv, starts, heads, hd), out);
        double[] twin = ScalarKernels.attention(qkv, starts, heads, hd);
        for (int b = 0; b < seqs; b++) {
            for (int i = 0; i < width; i++) {
                double expected = twin[starts[b] * width + i];
                if (!(Math.abs(out[b * width + i] - expected) <= AttentionTest.ATTENTION_ABS)) {
                    fail("sequence " + b + " element " + i + ": " + out[b * width + i] + " vs twin " + expected);
                }
            }
        }
    }

    @Test
    void equalsTheFirstRowsOfFullAttentionAndTheTwin() {
        check(new int[] {1, 7, 33, 130}, 3, 32, 1);
        check(new int[] {130, 2, 17}, 2, 64, 2);
        check(new int[] {5, 31, 16}, 3, 24, 3);                          // head dim not a vector multiple
        check(new int[] {AttentionKernel.BLOCK + 1, 600}, 2, 32, 4);      // keys across online-softmax blocks
    }

    @Test
    void theDefaultMethodKeepsTheFirstRowsOfFullAttention() {
        // HalfInputBackend does not override firstTokenAttention: the interface's default runs (as on CUDA).
        try (HalfInputBackend fallback = new HalfInputBackend(1, true)) {
            int[] starts = starts(4, 1, 19);
            float[] qkv = TestTensors.random(new Random(5), starts[3] * 3 * 2 * 32, 1f);
            float[] out = new float[3 * 64];
            fallback.firstTokenAttention(qkv, starts, 2, 32, out);
            assertClose(firstRowsOfFull(backend, qkv, starts, 2, 32), out);
        }
    }

    @Test
    void refusesEmptySequencesAndShortOutputs() {
        float[] qkv = new float[6 * 3 * 32];
        var empty = assertThrows(IllegalArgumentException.class,
                () -> backend.firstTokenAttention(qkv, starts(3, 0, 3), 1, 32, new float[3 * 32]));
        assertTrue(empty.getMessage().contains("sequence 1 is empty"), empty.getMessage());
        var shortOut = assertThrows(IllegalArgumentException.class,
                () -> backend.firstTokenAttention(qkv, starts(3, 3), 1, 32, new float[32]));
        assertTrue(shortOut.getMessage().contains("out holds 32 floats, needs 64"), shortOut.getMessage());
    }
}
