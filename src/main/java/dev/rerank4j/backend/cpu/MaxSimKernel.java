package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.DocumentLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * ColBERT MaxSim, Σ_i max_j q_i·d_j, for one query against many documents in {@link DocumentLayout}. The
 * query is small (32 × 128 floats for ColBERT v2), so it is transposed once to [dim, queries] and stays in
 * L1; document elements are broadcast against the query columns, several rows at a time so every query
 * vector loaded feeds several FMAs, with no horizontal sums, and the running maxima are plain lane-wise max.
 * Documents are split across workers in groups of {@link #DOCS_PER_ITEM}.
 *
 * <p>The documents are a {@link MemorySegment} of little-endian F32 or ({@code half}) F16 values at any alignment,
 * with long offsets. The kernel reads native F32 (a mapped file, native memory) in place. Anything else is staged
 * {@link #STAGE_ROWS} rows at a time into a worker's native F32 scratch, read back from L2: F16, widened exactly by
 * {@link Float#float16ToFloat} (no Vector API conversion exists in JDK 25; a widening branch per element inside the
 * block loops made every call 4–5× slower), and heap arrays (the {@code float[]} entry point), since a kernel that had
 * seen heap and native segments alike ran 4–5× slower on both (C2 no longer hoists the segment checks out of the
 * loop). Scores are those over the F32 values either way: the same FMAs in the same order, and maxima are exact.
 *
 * <p>A document's full blocks of eight rows go through {@link #block8}: stored dim-major, the eight elements
 * of one d are adjacent, so one index serves all eight broadcasts whatever the dim, and the block streams in
 * order. Measured on 1,000 × 180 × 128, two threads, alternating in one JVM with identical scores: four
 * row-major rows at a time 12.3–15.1 ms best, blocks of eight 8.1–10.4 (1.45–1.51×); with -XX:UseAVX=2
 * (16 registers, so four rows per pass) 18.8–19.4 against 16.7–16.9. Blocks of ten ran level with eight on
 * AVX-512 but spilled under AVX2, 1.2× slower than four row-major rows. The rows after the last full block
 * are row-major and go four, then one, at a time.
 */
final class MaxSimKernel {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int V = S.length();
    private static final int PANEL = 2 * V;
    static final int DOCS_PER_ITEM = 16;
    private static final int BLOCK = DocumentLayout.ROWS;

    static {
        if (BLOCK != 8) throw new AssertionError("block8 is written for blocks of 8 rows, DocumentLayout has " + BLOCK);
    }

    private MaxSimKernel() {}

    /**
     * Rows per pass over a block: all eight with 32 vector registers (AVX-512: 16 accumulators); four, in two
     * passes, with 16 (AVX2), where sixteen accumulators and their operands would spill.
     */
    static final int ROWS_PER_PASS = V >= 16 ? 8 : 4;

    /**
     * scores[i] = MaxSim of document ids[i]: rows off[ids[i]] to off[ids[i] + 1] of {@code docs}, {@code dim} values
     * each, F32 or ({@code half}) F16. Arguments are checked by the caller.
     */
    static void maxSim(float[] q, int qn, MemorySegment docs, boolean half, long[] off, int[] ids, int dim, float[] scores,
                       ParallelFor pf) {
        maxSim(q, qn, docs, half, off, ids, dim, scores, pf, ROWS_PER_PASS);
    }

    /** As above with an explicit number of rows per pass ({@code 8} or {@code 4}), so tests cover both on any machine. */
    static void maxSim(float[] q, int qn, MemorySegment docs, boolean half, long[] off, int[] ids, int dim, float[] scores,
                       ParallelFor pf, int rowsPerPass) {
        if (rowsPerPass != 8 && rowsPerPass != 4) throw new IllegalArgumentException("rows per pass must be 8 or 4, got " + rowsPerPass);
        boolean fourRows = rowsPerPass == 4;
        int n = ids.length;
        int qp = Math.max(PANEL, (qn + PANEL - 1) / PANEL * PANEL);
        // Panel-major: panel p's [dim, PANEL] block starts at p·dim·PANEL, so row d of it sits at a
        // constant stride (PANEL) and C2 can drop the bounds checks. Padding columns stay 0; their
        // maxima are never summed.
        float[] qt = new float[dim * qp];
        for (int i = 0; i < qn; i++) {
            int base = (i / PANEL) * dim * PANEL + i % PANEL;
            for (int d = 0; d < dim; d++) qt[base + d * PANEL] = q[i * dim + d];
        }
        boolean direct = docs.isNative() && !half;
        int items = (n + DOCS_PER_ITEM - 1) / DOCS_PER_ITEM;
        // staging scratch, freed when the call ends; none for a source read in place (closing a shared arena costs a handshake)
        Arena arena = direct ? null : Arena.ofShared();
        try {
            pf.forEach(items, () -> new Work(new float[qp], direct ? null : arena.allocate(4L * STAGE_ROWS * dim, 64),
                    half ? new short[STAGE_ROWS * dim] : null, direct ? null : new float[STAGE_ROWS * dim]), (work, item) -> {
                int end = Math.min(n, (item + 1) * DOCS_PER_ITEM);
                for (int i = item * DOCS_PER_ITEM; i < end; i++) {
                    scores[i] = document(qt, qp, qn, docs, half, off[ids[i]], off[ids[i] + 1], dim, work, fourRows);
                }
            });
        } finally {
            if (arena != null) arena.close();
        }
    }

    /**
     * Rows staged at a time from a source the kernel does not read in place (F16, or a heap array): a multiple of the
     * block, so a document's blocks stay whole, and small enough (128 KB at dim 128) that the staged rows are read
     * back from L2.
     */
    static final int STAGE_ROWS = 256;

    /** A worker's state: the running maxima, and for a staged source its scratch (native F32) and staging arrays. */
    private record Work(float[] best, MemorySegment scratch, short[] halves, float[] floats) {}

    private static float document(float[] qt, int qp, int qn, MemorySegment docs, boolean half, long t0, long t1, int dim,
                                  Work work, boolean fourRows) {
        if (t1 == t0) return 0f;
        float[] best = work.best();
        java.util.Arrays.fill(best, Float.NEGATIVE_INFINITY);
        // Each lane's maximum is exact whatever the order rows reach it in, so pieces change no score.
        for (long from = t0; from < t1; ) {
            long to = work.scratch() == null ? t1 : Math.min(t1, from + STAGE_ROWS);
            if (work.scratch() == null) {
                rows(qt, qp, docs, from * dim, to - from, dim, best, fourRows);
            } else {
                int floats = (int) ((to - from) * dim);
                if (half) {
                    MemorySegment.copy(docs, DocumentLayout.F16, 2 * from * dim, work.halves(), 0, floats);
                    float[] f = work.floats();
                    short[] h = work.halves();
                    for (int i = 0; i < floats; i++) f[i] = Float.float16ToFloat(h[i]); // F16C / AVX-512 conversions
                    MemorySegment.copy(f, 0, work.scratch(), DocumentLayout.F32, 0, floats);
                } else {
                    MemorySegment.copy(docs, DocumentLayout.F32, 4 * from * dim, work.scratch(), DocumentLayout.F32, 0, floats);
                }
                rows(qt, qp, work.scratch(), 0, to - from, dim, best, fourRows);
            }
            from = to;
        }
        double sum = 0;
        for (int i = 0; i < qn; i++) sum += best[i];
        return (float) sum;
    }

    /** best = max(best, q·d) over {@code count} rows of one document in {@link DocumentLayout}, starting at F32 element {@code at}. */
    private static void rows(float[] qt, int qp, MemorySegment docs, long at, long count, int dim, float[] best, boolean fourRows) {
        long blocks = count / BLOCK * BLOCK;
        for (int p = 0; p < qp; p += PANEL) {
            long t = 0;
            for (; t < blocks; t += BLOCK) {
                if (fourRows) {
                    halfBlock(qt, p * dim, p, docs, at + t * dim, dim, best);
                    halfBlock(qt, p * dim, p, docs, at + t * dim + 4, dim, best);
                } else {
                    block8(qt, p * dim, p, docs, at + t * dim, dim, best);
                }
            }
            for (; t + 4 <= count; t += 4) rows4(qt, p * dim, p, docs, at + t * dim, dim, best);
            for (; t < count; t++) row1(qt, p * dim, p, docs, at + t * dim, dim, best);
        }
    }

    /** Element {@code i} of native F32 {@code docs}. */
    private static float at(MemorySegment docs, long i) {
        return docs.get(DocumentLayout.F32, 4 * i);
    }
    /**
     * best[p, p + 2V) = max(best, q·d) over the {@link DocumentLayout#ROWS} = 8 rows of the block at element {@code at}
     * (dim-major: element d of the eight rows at at + 8·d + j), panel p's query block at q0. The eight
     * broadcasts per d are one index plus constants, and the block is read as one sequential stream.
     */
    private static void block8(float[] qt, int q0, int p, MemorySegment docs, long at, int dim, float[] best) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
        for (int d = 0; d < dim; d++) {
            int qi = q0 + d * PANEL;
            long r = at + d * 8L;
            FloatVector x = FloatVector.fromArray(S, qt, qi);
            FloatVector y = FloatVector.fromArray(S, qt, qi + V);
            FloatVector e0 = FloatVector.broadcast(S, at(docs, r));
            a0 = x.fma(e0, a0); b0 = y.fma(e0, b0);
            FloatVector e1 = FloatVector.broadcast(S, at(docs, r + 1));
            a1 = x.fma(e1, a1); b1 = y.fma(e1, b1);
            FloatVector e2 = FloatVector.broadcast(S, at(docs, r + 2));
            a2 = x.fma(e2, a2); b2 = y.fma(e2, b2);
            FloatVector e3 = FloatVector.broadcast(S, at(docs, r + 3));
            a3 = x.fma(e3, a3); b3 = y.fma(e3, b3);
            FloatVector e4 = FloatVector.broadcast(S, at(docs, r + 4));
            a4 = x.fma(e4, a4); b4 = y.fma(e4, b4);
            FloatVector e5 = FloatVector.broadcast(S, at(docs, r + 5));
            a5 = x.fma(e5, a5); b5 = y.fma(e5, b5);
            FloatVector e6 = FloatVector.broadcast(S, at(docs, r + 6));
            a6 = x.fma(e6, a6); b6 = y.fma(e6, b6);
            FloatVector e7 = FloatVector.broadcast(S, at(docs, r + 7));
            a7 = x.fma(e7, a7); b7 = y.fma(e7, b7);
        }
        FloatVector.fromArray(S, best, p).max(a0.max(a1).max(a2.max(a3)).max(a4.max(a5).max(a6.max(a7)))).intoArray(best, p);
        FloatVector.fromArray(S, best, p + V).max(b0.max(b1).max(b2.max(b3)).max(b4.max(b5).max(b6.max(b7)))).intoArray(best, p + V);
    }

    /** {@link #block8} for four of the block's rows (j = 0–3 from {@code at}, or 4–7 from at + 4): eight accumulators. */
    private static void halfBlock(float[] qt, int q0, int p, MemorySegment docs, long at, int dim, float[] best) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int d = 0; d < dim; d++) {
            int qi = q0 + d * PANEL;
            long r = at + d * 8L;
            FloatVector x = FloatVector.fromArray(S, qt, qi);
            FloatVector y = FloatVector.fromArray(S, qt, qi + V);
            FloatVector e0 = FloatVector.broadcast(S, at(docs, r));
            a0 = x.fma(e0, a0); b0 = y.fma(e0, b0);
            FloatVector e1 = FloatVector.broadcast(S, at(docs, r + 1));
            a1 = x.fma(e1, a1); b1 = y.fma(e1, b1);
            FloatVector e2 = FloatVector.broadcast(S, at(docs, r + 2));
            a2 = x.fma(e2, a2); b2 = y.fma(e2, b2);
            FloatVector e3 = FloatVector.broadcast(S, at(docs, r + 3));
            a3 = x.fma(e3, a3); b3 = y.fma(e3, b3);
        }
        FloatVector.fromArray(S, best, p).max(a0.max(a1).max(a2.max(a3))).intoArray(best, p);
        FloatVector.fromArray(S, best, p + V).max(b0.max(b1).max(b2.max(b3))).intoArray(best, p + V);
    }

    /** best[p, p + 2V) = max(best, q·d) for row-major document rows starting at element r0, r0 + dim, r0 + 2·dim, r0 + 3·dim; panel p's block at q0. */
    private static void rows4(float[] qt, int q0, int p, MemorySegment docs, long r0, int dim, float[] best) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        FloatVector b0 = FloatVector.zero(S), b1 = FloatVector.zero(S), b2 = FloatVector.zero(S), b3 = FloatVector.zero(S);
        long r1 = r0 + dim, r2 = r1 + dim, r3 = r2 + dim;
        for (int d = 0; d < dim; d++) {
            int qi = q0 + d * PANEL;
            FloatVector x = FloatVector.fromArray(S, qt, qi);
            FloatVector y = FloatVector.fromArray(S, qt, qi + V);
            FloatVector e0 = FloatVector.broadcast(S, at(docs, r0 + d));
            FloatVector e1 = FloatVector.broadcast(S, at(docs, r1 + d));
            FloatVector e2 = FloatVector.broadcast(S, at(docs, r2 + d));
            FloatVector e3 = FloatVector.broadcast(S, at(docs, r3 + d));
            a0 = x.fma(e0, a0);
            b0 = y.fma(e0, b0);
            a1 = x.fma(e1, a1);
            b1 = y.fma(e1, b1);
            a2 = x.fma(e2, a2);
            b2 = y.fma(e2, b2);
            a3 = x.fma(e3, a3);
            b3 = y.fma(e3, b3);
        }
        FloatVector.fromArray(S, best, p).max(a0.max(a1).max(a2.max(a3))).intoArray(best, p);
        FloatVector.fromArray(S, best, p + V).max(b0.max(b1).max(b2.max(b3))).intoArray(best, p + V);
    }

    private static void row1(float[] qt, int q0, int p, MemorySegment docs, long r0, int dim, float[] best) {
        FloatVector a = FloatVector.zero(S), b = FloatVector.zero(S);
        for (int d = 0; d < dim; d++) {
            int qi = q0 + d * PANEL;
            FloatVector e = FloatVector.broadcast(S, at(docs, r0 + d));
            a = FloatVector.fromArray(S, qt, qi).fma(e, a);
            b = FloatVector.fromArray(S, qt, qi + V).fma(e, b);
        }
        FloatVector.fromArray(S, best, p).max(a).intoArray(best, p);
        FloatVector.fromArray(S, best, p + V).max(b).intoArray(best, p + V);
    }
}
