package dev.rerank4j.backend.cpu;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/** Attention where each sequence's tokens see only its first keyLengths[b] tokens (ColBERT's query [MASK] padding). */
class MaskedAttentionTest {
    /** As AttentionTest.ATTENTION_ABS: the same arithmetic over fewer keys. */
    private static final double ATTENTION_ABS = AttentionTest.ATTENTION_ABS;

    private static final CpuBackend backend = new CpuBackend(2);

    @AfterAll
    static void close() {
        backend.close();
    }

    /** The twin: softmax over keys j < keyLength of each query row, in double. */
    static double[] scalar(float[] qkv, int[] starts, int[] keys, int heads, int hd) {
        int stride = 3 * heads * hd, width = heads * hd;
        double[] out = new double[starts[starts.length - 1] * width];
        for (int b = 0; b + 1 < starts.length; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = starts[b]; i < starts[b + 1]; i++) {
                    double[] p = new double[keys[b]];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < keys[b]; j++) {
                        double s = 0;
                        for (int d = 0; d < hd; d++) s += (double) qkv[i * stride + h * hd + d] * qkv[(starts[b] + j) * stride + width + h * hd + d];
                        p[j] = s / Math.sqrt(hd);
                        max = Math.max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < p.length; j++) sum += p[j] = Math.exp(p[j] - max);
                    for (int d = 0; d < hd; d++) {
                        double v = 0;
                        for (int j = 0; j < p.length; j++) v += p[j] * qkv[(starts[b] + j) * stride + 2 * width + h * hd + d];
                        out[i * width + h * hd + d] = v / sum;
                    }
                }
            }
        }
        return out;
    }

    static void check(int[] lengths, int[] keys, int heads, int hd, long seed) {
        int[] starts = new int[lengths.length + 1];
        for (int b = 0; b < lengths.length; b++) starts[b + 1] = starts[b] + lengths[b];
        float[] qkv = TestTensors.random(new Random(seed), starts[lengths.length] * 3 * heads * hd, 1f);
        float[] out = new float[starts[lengths.length] * heads * hd];
        backend.attention(qkv, starts, keys, heads, hd, out);
        double[] ref = scalar(qkv, starts, keys, heads, hd);
        for (int i = 0; i < ref.length; i++) {
            if (!(Math.abs(out[i] - ref[i]) <= ATTENTION_ABS)) {
                fail("lengths " + Arrays.toString(lengths) + " keys " + Arrays.toString(keys) + " at " + i + ": " + out[i] + " vs " + ref[i]);
            }
        }
    }

    @Test
    void paddedTokensGetOutputsButAreNeverAttendedTo() {
        check(new int[] {32, 32, 17}, new int[] {10, 32, 1}, 4, 8, 1);
        check(new int[] {1, 15, 33}, new int[] {1, 15, 17}, 3, 32, 2);
        check(new int[] {130, 7}, new int[] {129, 3}, 2, 24, 3);
    }

    @Test
    void fullKeyLengthsEqualPlainAttention() {
        int[] lengths = {5, 19};
        int[] starts = {0, 5, 24};
        float[] qkv = TestTensors.random(new Random(4), 24 * 3 * 2 * 16, 1f);
        float[] plain = new float[24 * 32], keyed = new float[24 * 32];
        backend.attention(qkv, starts, 2, 16, plain);
        backend.attention(qkv, starts, lengths, 2, 16, keyed);
        if (!Arrays.equals(plain, keyed)) fail("full key lengths changed the result");
    }

    @Test
    void rejectsKeyLengthsOutsideTheSequence() {
        float[] qkv = new float[4 * 3 * 8];
        assertThrows(IllegalArgumentException.class, () -> backend.attention(qkv, new int[] {0, 4}, new int[] {5}, 1, 8, new float[32]));
        assertThrows(IllegalArgumentException.class, () -> backend.attention(qkv, new int[] {0, 4}, new int[] {0}, 1, 8, new float[32]));
        assertThrows(IllegalArgumentException.class, () -> backend.attention(qkv, new int[] {0, 4}, new int[] {1, 1}, 1, 8, new float[32]));
    }
}
