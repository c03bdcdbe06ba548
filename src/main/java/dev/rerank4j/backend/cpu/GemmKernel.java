package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * y = act(x·Wᵀ + b) on {@link PackedLinear} weights. The micro-kernel keeps an MR × NR tile of y in
 * 2·MR vector registers (6 × 32 floats = 12 zmm on AVX-512, leaving room for the two B vectors and the
 * broadcast) and streams one k-major B panel against MR rows of x: 2 loads and 12 FMAs per k, so it
 * stays FMA-bound while the panel sits in L1/L2.
 *
 * <p>Every vector lives inside one method: C2 does not always inline a callee that takes or returns
 * vectors, and then boxes them, which cost 10× in throughput when the epilogue took vectors.
 */
final class GemmKernel {
    static final VectorSpecies<Float> S = VectorMath.S;
    static final int V = S.length();
    /** Panel width: two vectors, so a row of the tile is two independent FMA chains. */
    static final int NR = 2 * V;
    static final int MR = 6;
    /** Rows of x per work item: its MR-row blocks then stay in L2 across the item's panels. */
    private static final int X_CHUNK_BYTES = 256 * 1024;

    private GemmKernel() {}

    static void linear(float[] x, int rows, PackedLinear w, float[] y, Activation act, ParallelFor pf) {
        int k = w.in(), panels = w.panels();
        int chunkRows = Math.max(MR, X_CHUNK_BYTES / (4 * k) / MR * MR);
        chunkRows = Math.min(chunkRows, (rows + MR - 1) / MR * MR);
        int rowChunks = (rows + chunkRows - 1) / chunkRows;
        // Enough items for dynamic balancing on a noisy machine, and panel splits when rows are few.
        int target = 8 * pf.threads();
        int panelGroups = Math.min(panels, Math.max(1, (target + rowChunks - 1) / rowChunks));
        int perGroup = (panels + panelGroups - 1) / panelGroups;
        int groups = (panels + perGroup - 1) / perGroup;
        final int cr = chunkRows;
        pf.forEach(rowChunks * groups, (s, item) -> {
            int r0 = (item / groups) * cr, r1 = Math.min(rows, r0 + cr);
            int p0 = (item % groups) * perGroup, p1 = Math.min(panels, p0 + perGroup);
            block(x, r0, r1, w, p0, p1, y, act);
        });
    }

    /** Rows [r0, r1) × panels [p0, p1), single-threaded. */
    static void block(float[] x, int r0, int r1, PackedLinear w, int p0, int p1, float[] y, Activation act) {
        for (int p = p0; p < p1; p++) {
            int r = r0;
            for (; r + MR <= r1; r += MR) tile6(x, r, w, p, y, act);
            for (; r < r1; r++) tile1(x, r, w, p, y, act);
        }
    }

    private static void tile6(float[] x, int r, PackedLinear w, int p, float[] y, Activation act) {
        final int k = w.in();
        final float[] b = w.packed();
        final int x0 = r * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k, x4 = x3 + k, x5 = x4 + k;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        int bi = p * NR * k;
        for (int i = 0; i < k; i++, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + V);
            FloatVector a = FloatVector.broadcast(S, x[x0 + i]);
            c00 = b0.fma(a, c00);
            c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(S, x[x1 + i]);
            c10 = b0.fma(a, c10);
            c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(S, x[x2 + i]);
            c20 = b0.fma(a, c20);
            c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(S, x[x3 + i]);
            c30 = b0.fma(a, c30);
            c31 = b1.fma(a, c31);
            a = FloatVector.broadcast(S, x[x4 + i]);
            c40 = b0.fma(a, c40);
            c41 = b1.fma(a, c41);
            a = FloatVector.broadcast(S, x[x5 + i]);
            c50 = b0.fma(a, c50);
            c51 = b1.fma(a, c51);
        }
        // Raw sums go straight to y (vectors must not cross a call C2 may not inline: that boxes them);
        // bias and activation then run over the tile while it is still in L1.
        int n = w.out(), col = p * NR, yi = r * n + col;
        if (col + NR <= n) {
            c00.intoArray(y, yi); c01.intoArray(y, yi + V); yi += n;
            c10.intoArray(y, yi); c11.intoArray(y, yi + V); yi += n;
            c20.intoArray(y, yi); c21.intoArray(y, yi + V); yi += n;
            c30.intoArray(y, yi); c31.intoArray(y, yi + V); yi += n;
            c40.intoArray(y, yi); c41.intoArray(y, yi + V); yi += n;
            c50.intoArray(y, yi); c51.intoArray(y, yi + V);
        } else {
            VectorMask<Float> m0 = S.indexInRange(col, n), m1 = S.indexInRange(col + V, n);
            c00.intoArray(y, yi, m0); c01.intoArray(y, yi + V, m1); yi += n;
            c10.intoArray(y, yi, m0); c11.intoArray(y, yi + V, m1); yi += n;
            c20.intoArray(y, yi, m0); c21.intoArray(y, yi + V, m1); yi += n;
            c30.intoArray(y, yi, m0); c31.intoArray(y, yi + V, m1); yi += n;
            c40.intoArray(y, yi, m0); c41.intoArray(y, yi + V, m1); yi += n;
            c50.intoArray(y, yi, m0); c51.intoArray(y, yi + V, m1);
        }
        epilogue(r, MR, w, p, y, act);
    }

    /** One row (tails and the rows = 1 latency case); k unrolled by two to get four FMA chains. */
    private static void tile1(float[] x, int r, PackedLinear w, int p, float[] y, Activation act) {
        final int k = w.in();
        final float[] b = w.packed();
        final int x0 = r * k;
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        FloatVector d0 = FloatVector.zero(S), d1 = FloatVector.zero(S);
        int bi = p * NR * k;
        int i = 0;
        for (; i + 1 < k; i += 2, bi += 2 * NR) {
            FloatVector a = FloatVector.broadcast(S, x[x0 + i]);
            c0 = FloatVector.fromArray(S, b, bi).fma(a, c0);
            c1 = FloatVector.fromArray(S, b, bi + V).fma(a, c1);
            FloatVector a2 = FloatVector.broadcast(S, x[x0 + i + 1]);
            d0 = FloatVector.fromArray(S, b, bi + NR).fma(a2, d0);
            d1 = FloatVector.fromArray(S, b, bi + NR + V).fma(a2, d1);
        }
        if (i < k) {
            FloatVector a = FloatVector.broadcast(S, x[x0 + i]);
            c0 = FloatVector.fromArray(S, b, bi).fma(a, c0);
            c1 = FloatVector.fromArray(S, b, bi + V).fma(a, c1);
        }
        int n = w.out(), col = p * NR, yi = r * n + col;
        c0 = c0.add(d0);
        c1 = c1.add(d1);
        if (col + NR <= n) {
            c0.intoArray(y, yi);
            c1.intoArray(y, yi + V);
        } else {
            c0.intoArray(y, yi, S.indexInRange(col, n));
            c1.intoArray(y, yi + V, S.indexInRange(col + V, n));
        }
        epilogue(r, 1, w, p, y, act);
    }

    /** Bias and activation over rows [r, r + rows) of one panel, in place. */
    private static void epilogue(int r, int rows, PackedLinear w, int p, float[] y, Activation act) {
        int n = w.out(), col = p * NR, end = Math.min(n, col + NR);
        for (int i = 0; i < rows; i++) {
            int off = (r + i) * n;
            VectorMath.biasAndActivate(act, y, off + col, off + end, w.bias(), col);
        }
    }
}
