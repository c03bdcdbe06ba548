package dev.rerank4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class LinearTest {
    /**
     * Error bound relative to Σ|x·w| + |b|: F32 FMA accumulation over K terms errs by about √K·2⁻²⁴ of
     * that sum (3.3e-6 at K = 3072) and at worst K·2⁻²⁴; 1e-5 is 3× the typical bound at the largest K.
     */
    static final double GEMM_REL = 1e-5;
    /** The activation's own error (GELU 5e-7 relative, see VectorMathTest) on top of the GEMM's. */
    static final double ACT_REL = 5e-7;

    static final CpuBackend backend = new CpuBackend(2);

    @AfterAll
    static void close() {
        backend.close();
    }

    /**
     * rows × in × out triples: 1, tails that fill neither a vector (16), a panel (32) nor a 6- or 12-row
     * tile, in > 384 (several k-blocks, the last one partial), few rows over many panels (copied once, panels
     * split between items, the last ones in parts of their rows) and enough rows for items that split the rows
     * (the last ones in parts of their panels: 300 columns, 10 panels, 4 uneven parts); in = 384, where whole
     * row blocks are read from x in place and the partial last one copied, both with few rows and many; 800 and 1,600
     * rows, past the few-rows bound, through many-rows items with several panels.
     */
    static final int[][] SHAPES = {
            {1, 1, 1}, {1, 17, 33}, {5, 15, 17}, {6, 31, 32}, {7, 33, 31}, {13, 383, 65}, {17, 64, 383},
            {33, 17, 1}, {2, 3072, 40}, {40, 384, 96}, {12, 384, 32}, {25, 800, 70}, {150, 50, 64}, {23, 769, 33}, {141, 800, 100}, {300, 390, 65}, {400, 40, 300},
            {139, 384, 100}, {401, 384, 70}, {800, 390, 300}, {1600, 40, 300}};

    @Test
    void matchesTheScalarTwinForEveryDtypeActivationAndBiasOnOddShapes() {
        Random rnd = new Random(42);
        for (DType dt : DType.values()) {
            for (boolean withBias : new boolean[] {false, true}) {
                for (Activation act : Activation.values()) {
                    for (int[] s : SHAPES) check(rnd, dt, withBias, act, s[0], s[1], s[2]);
                }
            }
        }
    }

    @Test
    void theFiveRowTileForMachinesWithSixteenVectorRegistersMatchesTheScalarTwinToo() {
        Random rnd = new Random(7);
        for (int[] s : SHAPES) {
            Tensor w = TestTensors.of("w", DType.F32, TestTensors.random(rnd, s[2] * s[1], 0.5f), s[2], s[1]);
            Tensor b = TestTensors.of("b", DType.F32, TestTensors.random(rnd, s[2], 1f), s[2]);
            float[] x = TestTensors.random(rnd, s[0] * s[1], 2f);
            PackedLinear pw = (PackedLinear) backend.prepareLinear(w, b);
            float[] y5 = new float[s[0] * s[2]];
            float[] y12 = new float[s[0] * s[2]];
            ParallelFor pf = new ParallelFor(2);
            try {
                GemmKernel.linear(x, GemmKernel.Layout.ROW_MAJOR, s[0], pw, 0, pw.panels(), y5, GemmKernel.Layout.ROW_MAJOR, Activation.GELU, pf, 5);
                GemmKernel.linear(x, GemmKernel.Layout.ROW_MAJOR, s[0], pw, 0, pw.panels(), y12, GemmKernel.Layout.ROW_MAJOR, Activation.GELU, pf, 12);
            } finally {
                pf.shutdown();
            }
            double[][] ref = ScalarKernels.linear(x, s[0], w, b);
            for (int i = 0; i < y5.length; i++) {
                double expected = ScalarKernels.activate(Activation.GELU, ref[0][i]);
                double tol = GEMM_REL * ref[1][i] * 1.2 + ACT_REL * Math.abs(expected) + 1e-30;
                if (!(Math.abs(y5[i] - expected) <= tol) || !(Math.abs(y12[i] - expected) <= tol)) {
                    fail("shape " + java.util.Arrays.toString(s) + " at " + i + ": 5-row " + y5[i] + ", 12-row " + y12[i]
                            + " vs " + expected);
                }
            }
        }
    }

    /**
     * A run of rows goes to 12-row tiles and then to 5-row ones ({@link GemmKernel#fiveRowTiles}); both heights compute
     * each output as the same chain of FMAs, so the mix gives the bits of 5-row tiles alone. Row counts 1–60 (every mix
     * of up to eleven 5-row tiles, partial ones at the end), a pair's 139–141 and 401, with x read in place (in = 384)
     * and copied (800), few rows and many.
     */
    @Test
    void twelveRowTilesFollowedByFiveRowOnesGiveTheBitsOfFiveRowTilesAlone() {
        org.junit.jupiter.api.Assertions.assertEquals(4, GemmKernel.fiveRowTiles(140), "10 × 12 + 4 × 5");
        org.junit.jupiter.api.Assertions.assertEquals(0, GemmKernel.fiveRowTiles(144));
        org.junit.jupiter.api.Assertions.assertEquals(2, GemmKernel.fiveRowTiles(8), "10 rows, not 12");
        org.junit.jupiter.api.Assertions.assertEquals(1, GemmKernel.fiveRowTiles(17), "12 + 5");
        org.junit.jupiter.api.Assertions.assertEquals(0, GemmKernel.fiveRowTiles(12));
        Random rnd = new Random(5);
        java.util.List<Integer> rowCounts = new java.util.ArrayList<>();
        for (int rows = 1; rows <= 60; rows++) rowCounts.add(rows);
        rowCounts.addAll(java.util.List.of(139, 140, 141, 401));
        for (int in : new int[] {384, 800}) {
            int out = 70;
            Tensor w = TestTensors.of("w", DType.F32, TestTensors.random(rnd, out * in, 0.5f), out, in);
            Tensor b = TestTensors.of("b", DType.F32, TestTensors.random(rnd, out, 1f), out);
            PackedLinear pw = (PackedLinear) backend.prepareLinear(w, b);
            for (int rows : rowCounts) {
                float[] x = TestTensors.random(rnd, rows * in, 2f);
                float[] y5 = new float[rows * out], y12 = new float[rows * out];
                ParallelFor pf = new ParallelFor(2);
                try {
                    GemmKernel.linear(x, GemmKernel.Layout.ROW_MAJOR, rows, pw, 0, pw.panels(), y5, GemmKernel.Layout.ROW_MAJOR, Activation.GELU, pf, 5);
                    GemmKernel.linear(x, GemmKernel.Layout.ROW_MAJOR, rows, pw, 0, pw.panels(), y12, GemmKernel.Layout.ROW_MAJOR, Activation.GELU, pf, 12);
                } finally {
                    pf.shutdown();
                }
                for (int i = 0; i < y5.length; i++) {
                    if (Float.floatToRawIntBits(y5[i]) != Float.floatToRawIntBits(y12[i])) {
                        fail(rows + " rows × " + in + ", at " + i + ": 12-row tiles " + y12[i] + " vs 5-row " + y5[i]);
                    }
                }
            }
        }
    }

    /**
     * rows × in × hidden × out: few rows and many, one row block and a partial last one; hidden widths that stay
     * row-major (32, 800: blocks would round them up by over 1/8), of four whole k-blocks (1536), and of eight
     * and a partial ninth (3100).
     */
    static final int[][] FEED_FORWARD_SHAPES = {
            {1, 40, 32, 17}, {5, 33, 3100, 40}, {13, 384, 1536, 384}, {12, 64, 800, 33}, {139, 384, 1536, 384}, {401, 50, 1536, 70},
            {300, 70, 3100, 65},
            // enough rows for the fused form (chunks of 72 rows at 1536, 70 with 5-row tiles): x in place with a
            // partial last chunk and row block, and x copied, with a partial last panel
            {1157, 384, 1536, 40}, {1200, 100, 1536, 33},
            // one row short of fusing on two threads (16 chunks of 72): two products in all of the work space
            {1151, 384, 1536, 40}};

    @Test
    void theFeedForwardBlockWithItsHiddenRowsBlockedIsBitForBitTwoRowMajorProducts() {
        Random rnd = new Random(11);
        for (int tileRows : new int[] {5, 12}) {
            for (int[] s : FEED_FORWARD_SHAPES) {
                int rows = s[0], in = s[1], hidden = s[2], out = s[3];
                PackedLinear w1 = (PackedLinear) backend.prepareLinear(
                        TestTensors.of("w1", DType.F32, TestTensors.random(rnd, hidden * in, 0.3f), hidden, in),
                        TestTensors.of("b1", DType.F32, TestTensors.random(rnd, hidden, 1f), hidden));
                PackedLinear w2 = (PackedLinear) backend.prepareLinear(
                        TestTensors.of("w2", DType.F32, TestTensors.random(rnd, out * hidden, 0.1f), out, hidden),
                        TestTensors.of("b2", DType.F32, TestTensors.random(rnd, out, 1f), out));
                float[] x = TestTensors.random(rnd, rows * in, 2f);
                float[] h = new float[rows * hidden], want = new float[rows * out];
                // NaN where no hidden row is written: the padding rows a tile reads must never reach y
                float[] blocked = new float[backend.feedForwardHidden(rows, hidden)];
                java.util.Arrays.fill(blocked, Float.NaN);
                float[] y = new float[rows * out + 1];
                y[rows * out] = 12345f;
                ParallelFor pf = new ParallelFor(2);
                try {
                    GemmKernel.linear(x, GemmKernel.Layout.ROW_MAJOR, rows, w1, 0, w1.panels(), h, GemmKernel.Layout.ROW_MAJOR, Activation.GELU, pf, tileRows);
                    GemmKernel.linear(h, GemmKernel.Layout.ROW_MAJOR, rows, w2, 0, w2.panels(), want, GemmKernel.Layout.ROW_MAJOR, Activation.NONE, pf, tileRows);
                    GemmKernel.feedForward(x, rows, w1, Activation.GELU, w2, blocked, y, pf, tileRows);
                } finally {
                    pf.shutdown();
                }
                for (int i = 0; i < want.length; i++) {
                    if (Float.floatToRawIntBits(y[i]) != Float.floatToRawIntBits(want[i])) {
                        fail(tileRows + "-row tiles, shape " + java.util.Arrays.toString(s) + " at " + i + ": " + y[i] + " vs " + want[i]);
                    }
                }
                if (y[rows * out] != 12345f) fail("feedForward wrote past the end of y for shape " + java.util.Arrays.toString(s));
            }
        }
    }

    @Test
    void theFeedForwardBlockIsFusedOnlyWhereAChunkOfHiddenRowsFitsHalfAnL2() {
        org.junit.jupiter.api.Assertions.assertEquals(72, GemmKernel.fusedChunkRows(1536, 12), "MiniLM");
        org.junit.jupiter.api.Assertions.assertEquals(70, GemmKernel.fusedChunkRows(1536, 5), "MiniLM, 5-row tiles");
        org.junit.jupiter.api.Assertions.assertEquals(0, GemmKernel.fusedChunkRows(3072, 12), "bge-base: 24 rows would not pay");
        org.junit.jupiter.api.Assertions.assertEquals(0, GemmKernel.fusedChunkRows(1200, 12), "row-major hidden rows (TinyBERT)");
        // the work space stops where fusing starts (two threads: 16 chunks of 72 rows), and only for widths that fuse
        org.junit.jupiter.api.Assertions.assertEquals(1152, GemmKernel.fusedFromRows(1536, 2));
        org.junit.jupiter.api.Assertions.assertEquals(GemmKernel.Layout.floats(1151, 1536), backend.feedForwardHidden(8192, 1536));
        org.junit.jupiter.api.Assertions.assertEquals(GemmKernel.Layout.floats(1151, 1536), backend.feedForwardHidden(1152, 1536));
        org.junit.jupiter.api.Assertions.assertEquals(GemmKernel.Layout.floats(100, 1536), backend.feedForwardHidden(100, 1536));
        org.junit.jupiter.api.Assertions.assertEquals(GemmKernel.Layout.floats(8192, 3072), backend.feedForwardHidden(8192, 3072));
    }

    @Test
    void aFewRowsCallTakesEveryPanelOnceFromBothEnds() {
        for (int n = 1; n <= 97; n++) {
            boolean[] taken = new boolean[n];
            for (int u = 0; u < n; u++) {
                int p = GemmKernel.fromBothEnds(u, n);
                if (p < 0 || p >= n || taken[p]) fail("n=" + n + ": unit " + u + " takes panel " + p + " (out of range or twice)");
                taken[p] = true;
            }
            // the two units handed out together sit at opposite ends
            if (n >= 4 && GemmKernel.fromBothEnds(1, n) != n - 1) fail("n=" + n + ": unit 1 takes panel " + GemmKernel.fromBothEnds(1, n));
        }
    }

    @Test
    void theFeedForwardBlockRefusesTooSmallAWorkSpaceAndProductsThatDoNotChain() {
        Random rnd = new Random(5);
        LinearWeights w1 = backend.prepareLinear(TestTensors.of("w1", DType.F32, TestTensors.random(rnd, 1536 * 8, 1f), 1536, 8), null);
        LinearWeights w2 = backend.prepareLinear(TestTensors.of("w2", DType.F32, TestTensors.random(rnd, 3 * 1536, 1f), 3, 1536), null);
        float[] x = new float[2 * 8], y = new float[2 * 3];
        int needed = backend.feedForwardHidden(2, 1536);
        org.junit.jupiter.api.Assertions.assertEquals((2 + 11) * 1536, needed, "blocked rows take room for 11 padding rows");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> backend.feedForward(x, 2, w1, Activation.GELU, w2, new float[2 * 1536], y));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> backend.feedForward(x, 2, w1, Activation.GELU, w1, new float[needed], y));
        backend.feedForward(x, 2, w1, Activation.GELU, w2, new float[needed], y);
    }

    static void check(Random rnd, DType dt, boolean withBias, Activation act, int rows, int in, int out) {
        Tensor w = TestTensors.of("w", dt, TestTensors.random(rnd, out * in, 1f / (float) Math.sqrt(in) * 2), out, in);
        Tensor b = withBias ? TestTensors.of("b", dt, TestTensors.random(rnd, out, 1f), out) : null;
        float[] x = TestTensors.random(rnd, rows * in, 2f);
        LinearWeights pw = backend.prepareLinear(w, b);
        float[] y = new float[rows * out + 3];
        y[rows * out] = 12345f; // the sentinel after the output must survive masked stores
        backend.linear(x, rows, pw, y, act);
        double[][] ref = ScalarKernels.linear(x, rows, w, b);
        for (int i = 0; i < rows * out; i++) {
            double pre = ref[0][i];
            double expected = ScalarKernels.activate(act, pre);
            double tol = GEMM_REL * ref[1][i] * 1.2 + ACT_REL * Math.abs(expected) + 1e-30; // |act'| ≤ 1.13
            if (!(Math.abs(y[i] - expected) <= tol)) {
                fail(dt + " bias=" + withBias + " " + act + " rows=" + rows + " in=" + in + " out=" + out + " at "
                        + i + ": " + y[i] + " vs " + expected);
            }
        }
        if (y[rows * out] != 12345f) fail("linear wrote past the end of y for out=" + out);
    }
}
