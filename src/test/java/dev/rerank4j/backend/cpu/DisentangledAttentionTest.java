package dev.rerank4j.backend.cpu;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * DeBERTa's disentangled attention against a scalar twin in double: heads that fill vectors (64, 32) and that do not
 * (8, 20), each position term alone and both, sequences of up to 300 tokens with distances mapped to rows as a
 * bucketed model maps them.
 */
class DisentangledAttentionTest {
    private static final CpuBackend backend = new CpuBackend(2);

    @AfterAll
    static void close() {
        backend.close();
    }

    /** score(i, j) = (q_i·k_j + c2p q_i·pk_r + p2c k_j·pq_r) · scale, softmax over j, Σ p_j v_j, r = rows[i − j + center]. */
    private static double[] twin(float[] qkv, int[] starts, float[] positions, int[] rows, boolean c2p, boolean p2c, float scale,
                                 int heads, int hd) {
        int stride = 3 * heads * hd, center = (rows.length - 1) / 2;
        double[] out = new double[starts[starts.length - 1] * heads * hd];
        for (int b = 0; b + 1 < starts.length; b++) {
            int t0 = starts[b], len = starts[b + 1] - t0;
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < len; i++) {
                    double[] s = new double[len];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < len; j++) {
                        int r = rows[i - j + center] * stride;
                        double v = 0;
                        for (int d = 0; d < hd; d++) {
                            double q = qkv[(t0 + i) * stride + h * hd + d], k = qkv[(t0 + j) * stride + (heads + h) * hd + d];
                            v += q * k + (c2p ? q * positions[r + (heads + h) * hd + d] : 0) + (p2c ? k * positions[r + h * hd + d] : 0);
                        }
                        s[j] = v * scale;
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < len; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int d = 0; d < hd; d++) {
                        double o = 0;
                        for (int j = 0; j < len; j++) o += s[j] * qkv[(t0 + j) * stride + (2 * heads + h) * hd + d];
                        out[(t0 + i) * heads * hd + h * hd + d] = o / sum;
                    }
                }
            }
        }
        return out;
    }

    @Test
    void matchesTheScalarTwin() {
        Random rnd = new Random(5);
        int longest = 300, span = 32;
        int[] rows = new int[2 * longest - 1];
        for (int d = -(longest - 1); d < longest; d++) rows[d + longest - 1] = Math.clamp(Integer.signum(d) * (long) Math.min(Math.abs(d), span - 1) + span, 0, 2 * span - 1);
        for (int hd : new int[] {64, 32, 8, 20}) {
            int heads = 2;
            int[] starts = {0, 1, 40, 40, 340};
            float[] qkv = TestTensors.random(rnd, starts[4] * 3 * heads * hd, 1f);
            float[] positions = TestTensors.random(rnd, 2 * span * 3 * heads * hd, 1f);
            float scale = (float) (1 / Math.sqrt(hd * 3.0));
            for (boolean[] terms : new boolean[][] {{true, true}, {true, false}, {false, true}, {false, false}}) {
                double[] expected = twin(qkv, starts, positions, rows, terms[0], terms[1], scale, heads, hd);
                float[] out = new float[starts[4] * heads * hd];
                backend.disentangledAttention(qkv, starts, positions, rows, terms[0], terms[1], scale, heads, hd, out);
                for (int i = 0; i < expected.length; i++) {
                    if (!(Math.abs(out[i] - expected[i]) <= 1e-5)) {
                        fail("hd " + hd + ", c2p " + terms[0] + ", p2c " + terms[1] + " at " + i + ": " + out[i] + " vs " + expected[i]);
                    }
                }
            }
        }
    }

    /** Rows in any order of distance, as a model whose max_relative_positions is below half its buckets has them. */
    @Test
    void rowsNeedNotGrowWithTheDistance() {
        Random rnd = new Random(9);
        int longest = 90, span = 16, heads = 2, hd = 32;
        int[] rows = new int[2 * longest - 1];
        for (int i = 0; i < rows.length; i++) rows[i] = rnd.nextInt(2 * span);
        int[] starts = {0, 90, 97};
        float[] qkv = TestTensors.random(rnd, starts[2] * 3 * heads * hd, 1f), positions = TestTensors.random(rnd, 2 * span * 3 * heads * hd, 1f);
        double[] expected = twin(qkv, starts, positions, rows, true, true, 0.1f, heads, hd);
        float[] out = new float[starts[2] * heads * hd];
        backend.disentangledAttention(qkv, starts, positions, rows, true, true, 0.1f, heads, hd, out);
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(out[i] - expected[i]) <= 1e-5)) fail("at " + i + ": " + out[i] + " vs " + expected[i]);
        }
    }

    @Test
    void sequencesPastTheDistanceTableAndRowsPastThePositionsAreRefused() {
        int heads = 1, hd = 8;
        float[] positions = new float[4 * 3 * hd];
        assertThrows(IllegalArgumentException.class, () -> backend.disentangledAttention(new float[5 * 3 * hd], new int[] {0, 5},
                positions, new int[] {0, 1, 2, 3, 2, 1, 0}, true, true, 1f, heads, hd, new float[5 * hd]));
        assertThrows(IllegalArgumentException.class, () -> backend.disentangledAttention(new float[2 * 3 * hd], new int[] {0, 2},
                positions, new int[] {0, 4, 1}, true, true, 1f, heads, hd, new float[2 * hd]));
    }
}
