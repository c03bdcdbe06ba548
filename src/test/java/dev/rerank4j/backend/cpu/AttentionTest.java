package dev.rerank4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class AttentionTest {
    /**
     * Outputs are convex mixes of V (|v| ≤ 1). Scores of magnitude up to √d·|q||k| carry ~√d float
     * ulps, softmax weights inherit that relative error, exp adds 1 ulp: ~1e-6 at d = 64; 1e-5 leaves 10×.
     */
    static final double ATTENTION_ABS = 1e-5;

    static final CpuBackend backend = new CpuBackend(2);
    static final ParallelFor pf = new ParallelFor(2);

    @AfterAll
    static void close() {
        backend.close();
        pf.shutdown();
    }

    static void check(int[] lengths, int heads, int hd, float qkScale, long seed) {
        check(lengths, heads, hd, t -> qkScale, qkScale, seed, ATTENTION_ABS);
    }

    /** Token t's query scaled by {@code qScale(t)}, every key by {@code kScale}; outputs within {@code abs} of the twin's. */
    static void check(int[] lengths, int heads, int hd, java.util.function.IntToDoubleFunction qScale, float kScale, long seed,
                      double abs) {
        int[] starts = new int[lengths.length + 1];
        for (int b = 0; b < lengths.length; b++) starts[b + 1] = starts[b] + lengths[b];
        int tokens = starts[lengths.length];
        float[] qkv = TestTensors.random(new Random(seed), tokens * 3 * heads * hd, 1f);
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < heads * hd; i++) qkv[t * 3 * heads * hd + i] *= (float) qScale.applyAsDouble(t);
            for (int i = heads * hd; i < 2 * heads * hd; i++) qkv[t * 3 * heads * hd + i] *= kScale;
        }
        double[] ref = ScalarKernels.attention(qkv, starts, heads, hd);
        float[] out = new float[tokens * heads * hd];
        backend.attention(qkv, starts, heads, hd, out);
        compare(out, ref, heads, hd, abs, "backend");
        // both query-block heights, whichever this machine's registers pick, in passes of one block and of many
        java.util.Map<Integer, float[]> byHeight = new java.util.HashMap<>();
        for (AttentionKernel.Blocking blocking : BLOCKINGS) {
            java.util.Arrays.fill(out, Float.NaN);
            AttentionKernel.attention(qkv, starts, null, AttentionKernel.UNWINDOWED, heads, hd, out, pf, blocking);
            compare(out, ref, heads, hd, abs, blocking.toString());
            float[] other = byHeight.putIfAbsent(blocking.queriesPerBlock(), out.clone());
            if (other != null) org.junit.jupiter.api.Assertions.assertArrayEquals(other, out, blocking + ": as in passes of one block");
        }
    }

    /**
     * Both query-block heights, each in passes of one block (at test sizes, the default's) and of {@link
     * AttentionKernel#QUERIES_PER_PASS} queries (from 0 bytes), which must agree bit for bit.
     */
    static final java.util.List<AttentionKernel.Blocking> BLOCKINGS = java.util.List.of(
            new AttentionKernel.Blocking(4, AttentionKernel.LONG_PASSES_FROM_BYTES),
            new AttentionKernel.Blocking(12, AttentionKernel.LONG_PASSES_FROM_BYTES), new AttentionKernel.Blocking(4, 0),
            new AttentionKernel.Blocking(12, 0));

    private static void compare(float[] out, double[] ref, int heads, int hd, double abs, String what) {
        for (int i = 0; i < ref.length; i++) {
            if (!(Math.abs(out[i] - ref[i]) <= abs)) {
                fail(what + ": heads=" + heads + " hd=" + hd + " at token " + i / (heads * hd) + ": " + out[i] + " vs " + ref[i]);
            }
        }
    }

    @Test
    void matchesTheNaiveTwinOnRaggedBatches() {
        check(new int[] {1, 7, 33, 130}, 3, 32, 1f, 1);
        check(new int[] {130, 1, 33, 7}, 2, 64, 1f, 2);
    }

    @Test
    void handlesHeadDimsThatDoNotFillAVector() {
        check(new int[] {1, 7, 33, 17}, 2, 8, 1f, 3);
        check(new int[] {5, 31, 16}, 3, 24, 1f, 4);
        check(new int[] {9, 40}, 1, 80, 1f, 5);
    }

    @Test
    void staysStableWithLargeScoresBecauseTheRowMaxIsSubtracted() {
        // Scores up to ~40 (q and k ×6), the weights differences of large numbers; the test below goes past e^88.7,
        // where exp without the max subtracted overflows float.
        check(new int[] {7, 33}, 2, 32, 6f, 6);
    }

    @Test
    void subtractsEachQuerysOwnMaxWhenNeighbouringRowsDifferWidely() {
        // Queries ×24 or ×1/24 against keys ×6: scores of up to ~175 (~250 in base 2) beside ones under 2 in a query
        // block, so a row softened with a neighbour's max overflows, or underflows to 0/0 (planted: errors ≥ 0.1 or NaN).
        // Scores that large carry ~1e-5 of float rounding into the weights, hence the looser bound.
        check(new int[] {7, 33, 130}, 2, 32, t -> t % 2 == 0 ? 24 : 1 / 24.0, 6f, 9, 1e-4);
        check(new int[] {7, 33, 130}, 2, 32, t -> t % 3 == 0 ? 24 : 1 / 24.0, 6f, 10, 1e-4);
    }

    @Test
    void skipsEmptySequences() {
        check(new int[] {0, 5, 0, 3}, 2, 32, 1f, 7);
    }

    @Test
    void matchesTheNaiveTwinOnLongSequences() {
        // Long rows: the softmax sums run over thousands of keys; the error stays at fp32 noise.
        check(new int[] {1000}, 2, 32, 1f, 8);
        check(new int[] {3000, 17}, 1, 24, 1f, 9);
        check(new int[] {1000}, 1, 32, 6f, 10); // large scores over a long row
    }

    @Test
    void carriesTheOnlineSoftmaxAcrossKeyBlockBoundaries() {
        int b = AttentionKernel.BLOCK;
        check(new int[] {b - 1, b, b + 1, 2 * b + 1}, 2, 24, 1f, 11);
        // The row max moves into a later block: the earlier partial sums must be rescaled, not overflow.
        check(new int[] {3 * b + 5}, 1, 32, 6f, 12);
    }
}
