package dev.rerank4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Bidirectional multi-head attention over ragged sequences, one (sequence, head) pair per work item.
 * Each pair's K is first copied into panels the kernels read with unit stride: transposed and pre-scaled
 * by log₂e/√d ({@link #scoreScale}: softmax runs in base 2) in panels of {@link #W} keys ([panel][d][W]), so
 * scores for a query are FMAs along the keys with q broadcast and no horizontal sums. V is copied into zero-padded
 * chunks of W dims ([chunk][key][W]), so the values pass reads it with unit stride. Reading V in place where a head's
 * dims are whole chunks (hd = 32, 64), its rows a token's Q, K and V apart (MiniLM: 4.6 KB), was 0.5% faster on a
 * Zen 4 (JarAB (a) 1.005, (b) 1.006) and slower on a Xeon with 48 KB of L1 (family 6 model 167, 2026-12-05: a
 * probe of attention alone, one thread, 100 × 128 tokens, 12 × 32: 36–39 against 41–44 ms; JarAB of copying
 * against in place, bit-identical: (a) 0.994, 1.006, 1.007; (b) 1.010, 1.026; (c) 1.024, 1.051; (d) 0.979, 1.011).
 * {@link #QR} queries go together, their elements broadcast from qkv in place, so each K or V vector loaded feeds
 * QR rows; every index is the loop counter times a constant plus an invariant (no bounds checks in the loops).
 * (Copying the queries side by side first, by gathers, cost 10% of attention's samples on workload (a); reading
 * them in place: bench/run-ab-style JarAB (a) 1.013–1.015×, (b) 0.991×, (c) 1.004×.) With
 * 32 vector registers that is twelve queries, 24 independent FMA chains (with four, on AVX-512, the loads,
 * broadcasts and loop counter left the FMA ports idle a quarter of the time; eight, 16 chains, ran 2–12% slower than
 * twelve); with 16 registers, four.
 * Keys are taken in blocks of {@link #BLOCK}
 * with an online softmax (running max and sum per query, earlier partial sums rescaled by
 * 2^(m_old − m_new), as flash-attention does with e), so the score buffer is QR × BLOCK floats whatever L
 * is. With four queries a block the last block's values pass writes the output rows itself, divided by the sums,
 * so a sequence of up to BLOCK tokens never stores its weighted sums (probe, eight queries a block, 32 × 128 tokens,
 * 12 × 32, one thread: the separate division pass took 1.5 of 15.5 ms); with twelve the values method must stay small
 * enough for C1, so the weighted sums always pass through the block's rows ({@link #values12}, {@link #finish}), and
 * twelve still ran faster than eight did writing its output directly. With the K transposes, the kernel alone takes 0.95–0.99× the time it took before
 * (2026-12-05, hd 32 and 64, 128 or 20–256 tokens, one and two threads). Scratch is per worker and O(headDim·L);
 * the L×L score matrix never exists. A classifier's last layer, which needs only the first tokens' rows, takes
 * {@link FirstTokenAttentionKernel} instead.
 */
final class AttentionKernel {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int V = S.length();
    /** Keys per K panel and dims per V chunk: two vectors. */
    private static final int W = 2 * V;
    /**
     * Queries per block: 12 × 2 vectors = 24 accumulators where there are 32 vector registers (AVX-512), as the GEMM's
     * tile; 4 × 2 = 8 where there are 16 (AVX2), since 16 accumulators there leave none for K and the broadcasts. Twelve
     * against eight (probe, 16 heads, two threads, Xeon, 2026-12-06, bit-identical; GFLOP/s): hd 64 at 8,192 tokens
     * 200–204 → 223–231, at 512 187–194 → 199–203, at 128 131–135 → 140–142; hd 32 at 128 149–155 → 152–154. JarAB
     * bge-base (b) 1.021, all-MiniLM-L6-v2 (b) 1.001; bge-reranker-v2-m3's shape at 8,192 tokens 48.5–49.5 → 46.1–46.4 s.
     */
    static final int QR = V >= 16 ? 12 : 4;
    private static final int MAX_QR = 12;
    /** Keys per online-softmax block; a multiple of W. 12 × 256 scores = 12 KB, in L1. */
    static final int BLOCK = 256;
    /**
     * Queries per pass over a long head's keys, rounded down to whole blocks (120 with blocks of 12): each K and V block
     * (256 keys, 128–256 KB at hd 64–128) serves these queries' blocks while it is in L2, instead of one block of
     * {@link #QR} before the next block of queries reads it again. A long sequence's K and V pass the L2 (8,192 tokens at
     * hd 64: 4 MB), and with one block of queries per pass they came from L3 for every block of queries.
     */
    static final int QUERIES_PER_PASS = 128;

    /**
     * The size of a head's packed K and V from which its passes over the keys take {@link #QUERIES_PER_PASS} queries.
     * Probe, one sequence, 16 heads, bidirectional, two threads, Xeon (2 MB of L2 a core), 2026-12-06, GFLOP/s, one block
     * of queries a pass against 128 queries: hd 128, 1,024 tokens (1 MB) 203–216 against 184; 2,048 (2 MB) 176–194
     * against 183–184; 4,096 135–160 against 182–187; 8,192 125–127 against 181–193; hd 64, 8,192 (4 MB) 131–144 against
     * 175–176; below 2 MB the short passes were as fast or faster (hd 64, 512 tokens: 159–170 against 152).
     */
    static final long LONG_PASSES_FROM_BYTES = 2L << 20;

    /**
     * How a head's work is cut: {@code queriesPerBlock} queries a block (4 or 12), and passes over the keys of
     * {@link #QUERIES_PER_PASS} queries where the head's packed K and V take {@code longPassesFromBytes} or more, else of
     * one block. Tests set both, so that they cover every form on any machine and at small sizes.
     */
    record Blocking(int queriesPerBlock, long longPassesFromBytes) {
        static final Blocking DEFAULT = new Blocking(QR, LONG_PASSES_FROM_BYTES);

        Blocking {
            if (queriesPerBlock != 4 && queriesPerBlock != 12) {
                throw new IllegalArgumentException("queries per block must be 4 or 12, got " + queriesPerBlock);
            }
            if (longPassesFromBytes < 0) throw new IllegalArgumentException("longPassesFromBytes must be ≥ 0, got " + longPassesFromBytes);
        }

        int queriesPerPass(int keys, int hd) {
            long packed = 2L * ((keys + W - 1) / W * W) * ((hd + W - 1) / W * W) * Float.BYTES;
            return packed >= longPassesFromBytes ? QUERIES_PER_PASS / queriesPerBlock * queriesPerBlock : queriesPerBlock;
        }
    }

    /** One block of queries' running state: its rows, keys, running max, sum and weighted values, across key blocks. */
    private static final class Queries {
        float[] acc = new float[0];
        final float[] max = new float[MAX_QR];
        /** The current key block's maximum score per query. */
        final float[] blockMax = new float[MAX_QR];
        final float[] sum = new float[MAX_QR];
        final float[] rescale = new float[MAX_QR];
        /** 1 / sum per query, for the last key block's values pass, which writes the output rows. */
        final float[] inv = new float[MAX_QR];
        /** Where in qkv the block's queries start, one per query slot (slots past the last query repeat it). */
        final int[] queryRows = new int[MAX_QR];
        /** Where in out their rows start (slots past the last query repeat it too, writing the same values again). */
        final int[] outRows = new int[MAX_QR];
        /** The block's queries, as positions in their sequence (for the window). */
        final int[] queries = new int[MAX_QR];
        /** The keys the block attends to: [from, to). */
        int from, to;
    }

    /** A worker's buffers, grown to the longest sequence seen and kept across calls in {@link #SCRATCH}. */
    private static final class Scratch {
        float[] kt = new float[0];
        float[] vt = new float[0];
        final float[] scores = new float[MAX_QR * BLOCK];
        /** The blocks of queries of one pass over the keys. */
        private final Queries[] blocks = new Queries[QUERIES_PER_PASS / 4];
        /** Gather offsets of V consecutive tokens' rows of qkv (i·stride), for the stride they were made for. */
        private final int[] rows = new int[V];
        private int rowsStride;

        /** Block b of a pass, its weighted values room for {@code accFloats} floats. */
        Queries block(int b, int accFloats) {
            Queries q = blocks[b];
            if (q == null) q = blocks[b] = new Queries();
            if (q.acc.length < accFloats) q.acc = new float[accFloats];
            return q;
        }

        int[] rowOffsets(int stride) {
            if (rowsStride != stride) {
                for (int i = 0; i < V; i++) rows[i] = i * stride;
                rowsStride = stride;
            }
            return rows;
        }
    }

    private static final ScratchPool<Scratch> SCRATCH = new ScratchPool<>(Scratch::new, ScratchPool.PER_MACHINE);

    /** The window of attention without one: every token attends to every key. */
    static final int UNWINDOWED = Integer.MAX_VALUE;

    private AttentionKernel() {}

    /**
     * {@link dev.rerank4j.backend.Backend#attention}: sequence b's queries attend to its first
     * {@code keyLengths[b]} tokens only (all when null).
     */
    static void attention(float[] qkv, int[] seqStarts, int[] keyLengths, int heads, int headDim, float[] out, ParallelFor pf) {
        attention(qkv, seqStarts, keyLengths, UNWINDOWED, heads, headDim, out, pf, Blocking.DEFAULT);
    }

    /**
     * As above, every query also attending only to the keys at most {@code window} positions away from it (|i − j| ≤
     * window; {@link #UNWINDOWED}: all), cut as {@code blocking} says.
     */
    static void attention(float[] qkv, int[] seqStarts, int[] keyLengths, int window, int heads, int headDim, float[] out,
                          ParallelFor pf, Blocking blocking) {
        if (window < 0) throw new IllegalArgumentException("window must be ≥ 0, got " + window);
        int seqs = seqStarts.length - 1;
        Integer[] order = longestFirst(seqStarts);
        pf.forEach(seqs * heads, SCRATCH, (s, item) -> {
            int b = order[item / heads], h = item % heads;
            int t0 = seqStarts[b], len = seqStarts[b + 1] - t0;
            int keys = keyLengths == null ? len : keyLengths[b];
            head(qkv, t0, 0, len, keys, window, window, Heads.of(h, heads, heads, headDim), out, t0, s, blocking.queriesPerBlock(),
                    blocking.queriesPerPass(keys, headDim));
        });
    }

    /** Sequence indices, longest first, so the last items handed out are the short ones. */
    private static Integer[] longestFirst(int[] seqStarts) {
        Integer[] order = new Integer[seqStarts.length - 1];
        for (int b = 0; b < order.length; b++) order[b] = b;
        java.util.Arrays.sort(order, (a, b) -> Integer.compare(seqStarts[b + 1] - seqStarts[b], seqStarts[a + 1] - seqStarts[a]));
        return order;
    }

    /**
     * {@link dev.rerank4j.backend.DecoderKernels#causalSelfAttention}'s attention on its Q, K and V already normed and
     * rotated: rows of [Q: heads | K: kvHeads | V: kvHeads] × headDim, token i attending to tokens 0..i of its sequence,
     * query head h to key/value head h / (heads / kvHeads); out rows per token, or with {@code lastOnly} one per sequence,
     * its last token's; cut as {@code blocking} says.
     */
    static void causal(float[] qkv, int[] seqStarts, int heads, int kvHeads, int headDim, boolean lastOnly, float[] out, ParallelFor pf,
                       Blocking blocking) {
        int seqs = seqStarts.length - 1;
        Integer[] order = longestFirst(seqStarts);
        pf.forEach(seqs * heads, SCRATCH, (s, item) -> {
            int b = order[item / heads], h = item % heads;
            int t0 = seqStarts[b], len = seqStarts[b + 1] - t0;
            head(qkv, t0, lastOnly ? len - 1 : 0, len, len, UNWINDOWED, 0, Heads.of(h, heads, kvHeads, headDim), out,
                    lastOnly ? b : t0, s, blocking.queriesPerBlock(), blocking.queriesPerPass(len, headDim));
        });
    }

    /**
     * Where one query head's Q, its K and V, and its output sit in a token's rows: qkv rows of [Q: heads | K: kvHeads |
     * V: kvHeads] × hd (kvHeads = heads without grouping), out rows of heads × hd.
     */
    private record Heads(int hd, int stride, int qOff, int kOff, int vOff, int outStride) {
        static Heads of(int h, int heads, int kvHeads, int hd) {
            int g = h / (heads / kvHeads);
            return new Heads(hd, (heads + 2 * kvHeads) * hd, h * hd, (heads + g) * hd, (heads + kvHeads + g) * hd, heads * hd);
        }
    }

    /**
     * Sequences [from, to) of seqStarts on this thread, every head, as {@link #attention} computes them: their qkv
     * rows are those of qkv from row {@code qkvRow} on (sequence {@code from}'s first token there), their out rows
     * those seqStarts gives.
     */
    static void attendHere(float[] qkv, int qkvRow, int[] seqStarts, int from, int to, int[] keyLengths, int window, int heads,
                           int headDim, float[] out) {
        Scratch s = SCRATCH.take();
        try {
            int shift = qkvRow - seqStarts[from];
            for (int b = from; b < to; b++) {
                int t0 = seqStarts[b], len = seqStarts[b + 1] - t0, keys = keyLengths == null ? len : keyLengths[b];
                for (int h = 0; h < heads; h++) {
                    head(qkv, t0 + shift, 0, len, keys, window, window, Heads.of(h, heads, heads, headDim), out, t0, s, QR,
                            Blocking.DEFAULT.queriesPerPass(keys, headDim));
                }
            }
        } finally {
            SCRATCH.give(s);
        }
    }

    /**
     * Queries are tokens [t0 + q0, t0 + queries), written to out rows from {@code outRow} on (query q0's); keys and
     * values are tokens [t0, t0 + keys), of which query q sees those from q − before to q + after. A block of queries takes
     * the keys from its first query's window start, rounded down to a K panel, to its last query's window end; the scores
     * outside each query's own window are masked. Its first key block holds a key of every query's window (the window's
     * first key, at most QR − 1 + W − 1 past the block's start), so no query's running max is still −∞ after it; a window
     * must hold a key, so queries may be at most {@code before} past the last key (the caller checks). Blocks go
     * {@code perPass} queries a pass over the keys (a multiple of qr); each block sees the same key blocks, in the same
     * order, whatever the pass, so the results are bit for bit those of one block a pass.
     */
    private static void head(float[] qkv, int t0, int q0, int queries, int keys, int before, int after, Heads l, float[] out,
                             int outRow, Scratch s, int qr, int perPass) {
        if (queries == 0) return;
        int hd = l.hd(), kp = (keys + W - 1) / W * W, chunks = (hd + W - 1) / W, accStride = chunks * W;
        if (s.kt.length < kp * hd) s.kt = new float[kp * hd];
        packKeys(qkv, t0, keys, kp, l.stride(), l.kOff(), hd, scoreScale(hd), s.kt, s.rowOffsets(l.stride()));
        if (s.vt.length < chunks * kp * W) s.vt = new float[chunks * kp * W];
        packValues(qkv, t0, keys, kp, l.stride(), l.vOff(), hd, s.vt);
        int span = Math.max(queries, keys);
        boolean windowed = (long) before + 1 < span || (long) after + 1 < span;
        for (int i0 = q0; i0 < queries; i0 += perPass) {
            int blocks = (Math.min(queries - i0, perPass) + qr - 1) / qr;
            for (int b = 0; b < blocks; b++) {
                Queries qb = s.block(b, qr * accStride);
                int i = i0 + b * qr;
                for (int r = 0; r < qr; r++) {
                    int q = i + Math.min(r, queries - i - 1);
                    qb.queryRows[r] = (t0 + q) * l.stride() + l.qOff();
                    qb.outRows[r] = (outRow + q - q0) * l.outStride() + l.qOff();
                    qb.queries[r] = q;
                }
                java.util.Arrays.fill(qb.max, Float.NEGATIVE_INFINITY);
                java.util.Arrays.fill(qb.sum, 0f);
                qb.from = windowed ? (int) Math.max(0L, (long) i - before) / W * W : 0;
                qb.to = windowed ? (int) Math.min(keys, (long) Math.min(queries, i + qr) + after) : keys;
            }
            // Round r takes each block's r-th key block; where the blocks start at the same key (no window, or causal)
            // those are one K and V block, read from L2 by every block of the pass.
            for (int round = 0, any = 1; any > 0; round++) {
                any = 0;
                for (int b = 0; b < blocks; b++) {
                    Queries qb = s.blocks[b];
                    int j0 = qb.from + round * BLOCK;
                    if (j0 >= qb.to) continue;
                    any++;
                    keyBlock(qkv, j0, Math.min(BLOCK, qb.to - j0), hd, chunks, kp, s, qb, qr, j0 == qb.from, j0 + BLOCK >= qb.to,
                            windowed, before, after, out);
                }
            }
        }
    }

    /**
     * K of keys [0, keys) as [panel][d][W], scaled; key slots past {@code keys} are zeros. With 16 lanes and
     * hd a multiple of 16, 16 keys' rows are loaded whole and transposed in registers, 16 × 16 at a time
     * ({@link #transpose16}); else each output vector (V consecutive keys, one dim) is one gather down a column of
     * qkv, which is cheaper than a scatter or V scalar stores per key row (those took 30% of attention's time at
     * hd = 32), but a gather touches 16 lines (probe, 32 × 128 tokens, 12 × 32: packing 1.4 → about 0.6 ms of
     * 15.5 on one thread with the transposes).
     */
    private static void packKeys(float[] qkv, int t0, int keys, int kp, int stride, int kOff, int hd, float scale,
                                 float[] kt, int[] rowOffsets) {
        for (int j0 = 0; j0 < kp; j0 += V) {
            int at = (j0 / W) * hd * W + j0 % W;
            if (j0 + V <= keys && V == 16 && hd % 16 == 0) {
                int from = (t0 + j0) * stride + kOff;
                for (int d = 0; d < hd; d += 16) transpose16(qkv, from + d, stride, kt, at + d * W, W, scale);
            } else if (j0 + V <= keys) {
                int from = (t0 + j0) * stride + kOff;
                for (int d = 0; d < hd; d++) FloatVector.fromArray(S, qkv, from + d, rowOffsets, 0).mul(scale).intoArray(kt, at + d * W);
            } else {
                // keys, then zeros, in loops of their own: a choice inside the inner loop made C2 speculate on the tail
                // lengths the first calls had, and compile the method again when a call had another
                for (int j = j0; j < keys; j++) {
                    int src = (t0 + j) * stride + kOff;
                    for (int d = 0; d < hd; d++) kt[at + j - j0 + d * W] = qkv[src + d] * scale;
                }
                for (int j = Math.max(j0, keys); j < j0 + V; j++) {
                    for (int d = 0; d < hd; d++) kt[at + j - j0 + d * W] = 0f;
                }
            }
        }
    }

    /**
     * Lane selectors for {@link #transpose16}, as {@code selectFrom}'s two-vector form takes them: for each
     * b = 8, 4, 2, 1, LO_b takes lanes with bit b clear from the first vector and the others from the second
     * shifted down by b; HI_b the first's lanes shifted up by b, and the second's own. Null unless V = 16.
     */
    private static final FloatVector SEL_LO8, SEL_HI8, SEL_LO4, SEL_HI4, SEL_LO2, SEL_HI2, SEL_LO1, SEL_HI1;

    static {
        FloatVector[] sel = new FloatVector[8];
        for (int k = 0, b = 8; V == 16 && b >= 1; b /= 2, k += 2) {
            float[] lo = new float[16], hi = new float[16];
            for (int j = 0; j < 16; j++) {
                lo[j] = (j & b) == 0 ? j : 16 + j - b;
                hi[j] = (j & b) == 0 ? j + b : 16 + j;
            }
            sel[k] = FloatVector.fromArray(S, lo, 0);
            sel[k + 1] = FloatVector.fromArray(S, hi, 0);
        }
        SEL_LO8 = sel[0]; SEL_HI8 = sel[1]; SEL_LO4 = sel[2]; SEL_HI4 = sel[3];
        SEL_LO2 = sel[4]; SEL_HI2 = sel[5]; SEL_LO1 = sel[6]; SEL_HI1 = sel[7];
    }

    /**
     * dst rows [0, 16) (dstStride apart from {@code to}) = scale × the transpose of src's 16 × 16 block at
     * {@code from} (rows srcStride apart). Four rounds of 16 two-vector selects, each swapping the off-diagonal
     * b × b blocks of every 2b × 2b block (b = 8, 4, 2, 1): 64 permutes for 256 floats, against 16 gathers.
     */
    private static void transpose16(float[] src, int from, int srcStride, float[] dst, int to, int dstStride, float scale) {
        FloatVector r0 = FloatVector.fromArray(S, src, from + 0 * srcStride);
        FloatVector r1 = FloatVector.fromArray(S, src, from + 1 * srcStride);
        FloatVector r2 = FloatVector.fromArray(S, src, from + 2 * srcStride);
        FloatVector r3 = FloatVector.fromArray(S, src, from + 3 * srcStride);
        FloatVector r4 = FloatVector.fromArray(S, src, from + 4 * srcStride);
        FloatVector r5 = FloatVector.fromArray(S, src, from + 5 * srcStride);
        FloatVector r6 = FloatVector.fromArray(S, src, from + 6 * srcStride);
        FloatVector r7 = FloatVector.fromArray(S, src, from + 7 * srcStride);
        FloatVector r8 = FloatVector.fromArray(S, src, from + 8 * srcStride);
        FloatVector r9 = FloatVector.fromArray(S, src, from + 9 * srcStride);
        FloatVector r10 = FloatVector.fromArray(S, src, from + 10 * srcStride);
        FloatVector r11 = FloatVector.fromArray(S, src, from + 11 * srcStride);
        FloatVector r12 = FloatVector.fromArray(S, src, from + 12 * srcStride);
        FloatVector r13 = FloatVector.fromArray(S, src, from + 13 * srcStride);
        FloatVector r14 = FloatVector.fromArray(S, src, from + 14 * srcStride);
        FloatVector r15 = FloatVector.fromArray(S, src, from + 15 * srcStride);
        FloatVector a0 = SEL_LO8.selectFrom(r0, r8), a8 = SEL_HI8.selectFrom(r0, r8);
        FloatVector a1 = SEL_LO8.selectFrom(r1, r9), a9 = SEL_HI8.selectFrom(r1, r9);
        FloatVector a2 = SEL_LO8.selectFrom(r2, r10), a10 = SEL_HI8.selectFrom(r2, r10);
        FloatVector a3 = SEL_LO8.selectFrom(r3, r11), a11 = SEL_HI8.selectFrom(r3, r11);
        FloatVector a4 = SEL_LO8.selectFrom(r4, r12), a12 = SEL_HI8.selectFrom(r4, r12);
        FloatVector a5 = SEL_LO8.selectFrom(r5, r13), a13 = SEL_HI8.selectFrom(r5, r13);
        FloatVector a6 = SEL_LO8.selectFrom(r6, r14), a14 = SEL_HI8.selectFrom(r6, r14);
        FloatVector a7 = SEL_LO8.selectFrom(r7, r15), a15 = SEL_HI8.selectFrom(r7, r15);
        FloatVector b0 = SEL_LO4.selectFrom(a0, a4), b4 = SEL_HI4.selectFrom(a0, a4);
        FloatVector b1 = SEL_LO4.selectFrom(a1, a5), b5 = SEL_HI4.selectFrom(a1, a5);
        FloatVector b2 = SEL_LO4.selectFrom(a2, a6), b6 = SEL_HI4.selectFrom(a2, a6);
        FloatVector b3 = SEL_LO4.selectFrom(a3, a7), b7 = SEL_HI4.selectFrom(a3, a7);
        FloatVector b8 = SEL_LO4.selectFrom(a8, a12), b12 = SEL_HI4.selectFrom(a8, a12);
        FloatVector b9 = SEL_LO4.selectFrom(a9, a13), b13 = SEL_HI4.selectFrom(a9, a13);
        FloatVector b10 = SEL_LO4.selectFrom(a10, a14), b14 = SEL_HI4.selectFrom(a10, a14);
        FloatVector b11 = SEL_LO4.selectFrom(a11, a15), b15 = SEL_HI4.selectFrom(a11, a15);
        FloatVector c0 = SEL_LO2.selectFrom(b0, b2), c2 = SEL_HI2.selectFrom(b0, b2);
        FloatVector c1 = SEL_LO2.selectFrom(b1, b3), c3 = SEL_HI2.selectFrom(b1, b3);
        FloatVector c4 = SEL_LO2.selectFrom(b4, b6), c6 = SEL_HI2.selectFrom(b4, b6);
        FloatVector c5 = SEL_LO2.selectFrom(b5, b7), c7 = SEL_HI2.selectFrom(b5, b7);
        FloatVector c8 = SEL_LO2.selectFrom(b8, b10), c10 = SEL_HI2.selectFrom(b8, b10);
        FloatVector c9 = SEL_LO2.selectFrom(b9, b11), c11 = SEL_HI2.selectFrom(b9, b11);
        FloatVector c12 = SEL_LO2.selectFrom(b12, b14), c14 = SEL_HI2.selectFrom(b12, b14);
        FloatVector c13 = SEL_LO2.selectFrom(b13, b15), c15 = SEL_HI2.selectFrom(b13, b15);
        FloatVector d0 = SEL_LO1.selectFrom(c0, c1), d1 = SEL_HI1.selectFrom(c0, c1);
        FloatVector d2 = SEL_LO1.selectFrom(c2, c3), d3 = SEL_HI1.selectFrom(c2, c3);
        FloatVector d4 = SEL_LO1.selectFrom(c4, c5), d5 = SEL_HI1.selectFrom(c4, c5);
        FloatVector d6 = SEL_LO1.selectFrom(c6, c7), d7 = SEL_HI1.selectFrom(c6, c7);
        FloatVector d8 = SEL_LO1.selectFrom(c8, c9), d9 = SEL_HI1.selectFrom(c8, c9);
        FloatVector d10 = SEL_LO1.selectFrom(c10, c11), d11 = SEL_HI1.selectFrom(c10, c11);
        FloatVector d12 = SEL_LO1.selectFrom(c12, c13), d13 = SEL_HI1.selectFrom(c12, c13);
        FloatVector d14 = SEL_LO1.selectFrom(c14, c15), d15 = SEL_HI1.selectFrom(c14, c15);
        d0.mul(scale).intoArray(dst, to + 0 * dstStride);
        d1.mul(scale).intoArray(dst, to + 1 * dstStride);
        d2.mul(scale).intoArray(dst, to + 2 * dstStride);
        d3.mul(scale).intoArray(dst, to + 3 * dstStride);
        d4.mul(scale).intoArray(dst, to + 4 * dstStride);
        d5.mul(scale).intoArray(dst, to + 5 * dstStride);
        d6.mul(scale).intoArray(dst, to + 6 * dstStride);
        d7.mul(scale).intoArray(dst, to + 7 * dstStride);
        d8.mul(scale).intoArray(dst, to + 8 * dstStride);
        d9.mul(scale).intoArray(dst, to + 9 * dstStride);
        d10.mul(scale).intoArray(dst, to + 10 * dstStride);
        d11.mul(scale).intoArray(dst, to + 11 * dstStride);
        d12.mul(scale).intoArray(dst, to + 12 * dstStride);
        d13.mul(scale).intoArray(dst, to + 13 * dstStride);
        d14.mul(scale).intoArray(dst, to + 14 * dstStride);
        d15.mul(scale).intoArray(dst, to + 15 * dstStride);
    }

    /** V of keys [0, kp) as [chunk][key][W]; padding keys and dims are zeros (0·garbage could be NaN). */
    private static void packValues(float[] qkv, int t0, int keys, int kp, int stride, int vOff, int hd, float[] vt) {
        int chunks = (hd + W - 1) / W;
        for (int c = 0; c < chunks; c++) {
            int d0 = c * W, width = Math.min(W, hd - d0);
            for (int j = 0; j < kp; j++) {
                int at = (c * kp + j) * W;
                if (j < keys && width == W) {
                    // two vector copies: System.arraycopy's call costs more than 32 floats
                    int src = (t0 + j) * stride + vOff + d0;
                    FloatVector.fromArray(S, qkv, src).intoArray(vt, at);
                    FloatVector.fromArray(S, qkv, src + V).intoArray(vt, at + V);
                } else if (j < keys) {
                    System.arraycopy(qkv, (t0 + j) * stride + vOff + d0, vt, at, width);
                    java.util.Arrays.fill(vt, at + width, at + W, 0f);
                } else {
                    java.util.Arrays.fill(vt, at, at + W, 0f);
                }
            }
        }
    }

    /**
     * Folds keys [j0, j0 + bl) into the running max, sum and weighted values of the qr queries of qb, their V in s.vt
     * ({@link #packValues} of kp keys). The first block starts the weighted values from zero; the last writes them,
     * divided by the sums, to the rows of out at qb.outRows (so they never pass through qb.acc when the keys fit one
     * block).
     */
    private static void keyBlock(float[] qkv, int j0, int bl, int hd, int chunks, int kp, Scratch s, Queries qb, int qr,
                                 boolean first, boolean last, boolean windowed, int before, int after, float[] out) {
        float[] sc = s.scores;
        if (qr == 12) {
            scores12(qkv, qb.queryRows, s.kt, j0 / W, (bl + W - 1) / W, hd, sc);
        } else {
            scores4(qkv, qb.queryRows, s.kt, j0 / W, (bl + W - 1) / W, hd, sc);
        }
        // Score slots past the block's last key up to a whole vector get −∞: then the max and exp passes run on
        // whole vectors, and exp makes those slots 0, which adds nothing to the sum (values stops at bl).
        int padded = (bl + V - 1) / V * V;
        if (padded > bl) {
            for (int r = 0; r < qr; r++) java.util.Arrays.fill(sc, r * BLOCK + bl, r * BLOCK + padded, Float.NEGATIVE_INFINITY);
        }
        if (windowed) {
            for (int r = 0; r < qr; r++) { // keys [q − before, q + after] of the block stay
                int q = qb.queries[r], start = Math.clamp((long) q - before - j0, 0, bl), end = Math.clamp((long) q + after + 1 - j0, start, bl);
                java.util.Arrays.fill(sc, r * BLOCK, r * BLOCK + start, Float.NEGATIVE_INFINITY);
                java.util.Arrays.fill(sc, r * BLOCK + end, r * BLOCK + bl, Float.NEGATIVE_INFINITY);
            }
        }
        for (int r = 0; r < qr; r += 4) blockMax4(sc, r, padded, qb.blockMax);
        for (int r = 0; r < qr; r++) {
            float old = qb.max[r];
            float m = Math.max(old, qb.blockMax[r]);
            // First block: the old max is -inf, the sum 0 and values starts from zero, so the rescale factor does not matter.
            float rescale = old == Float.NEGATIVE_INFINITY ? 0f : (float) Math.pow(2, old - m);
            qb.rescale[r] = rescale;
            qb.sum[r] = qb.sum[r] * rescale + VectorMath.exp2InPlace(sc, r * BLOCK, padded, m);
            qb.max[r] = m;
            if (last) qb.inv[r] = 1f / qb.sum[r];
        }
        // One chunk of W dims per call keeps each method small: C1 gives up on large vector methods
        // ("out of virtual registers"), and a kernel stuck below C2 runs in the interpreter for seconds.
        if (qr == 12) {
            if (first) java.util.Arrays.fill(qb.acc, 0, 12 * chunks * W, 0f);
            for (int c = 0; c < chunks; c++) values12(s.vt, (c * kp + j0) * W, bl, sc, qb, chunks * W, c * W);
            if (last) finish(qb, qr, chunks * W, hd, out);
            return;
        }
        for (int c = 0; c < chunks; c++) values4(s.vt, (c * kp + j0) * W, bl, sc, qb, chunks * W, c * W, hd, first, last, out);
    }

    /**
     * Scores of the four queries whose rows of qkv start at {@code rows[0..3]} against K panels [panel0, panel0 + panels),
     * into sc rows of BLOCK.
     */
    private static void scores4(float[] qkv, int[] rows, float[] kt, int panel0, int panels, int hd, float[] sc) {
        int q0 = rows[0], q1 = rows[1], q2 = rows[2], q3 = rows[3];
        for (int p = 0; p < panels; p++) {
            int base = (panel0 + p) * hd * W;
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
            FloatVector b0 = FloatVector.zero(S), b1 = FloatVector.zero(S), b2 = FloatVector.zero(S), b3 = FloatVector.zero(S);
            for (int d = 0; d < hd; d++) {
                FloatVector k0 = FloatVector.fromArray(S, kt, base + d * W);
                FloatVector k1 = FloatVector.fromArray(S, kt, base + d * W + V);
                FloatVector e = FloatVector.broadcast(S, qkv[q0 + d]);
                a0 = k0.fma(e, a0);
                b0 = k1.fma(e, b0);
                e = FloatVector.broadcast(S, qkv[q1 + d]);
                a1 = k0.fma(e, a1);
                b1 = k1.fma(e, b1);
                e = FloatVector.broadcast(S, qkv[q2 + d]);
                a2 = k0.fma(e, a2);
                b2 = k1.fma(e, b2);
                e = FloatVector.broadcast(S, qkv[q3 + d]);
                a3 = k0.fma(e, a3);
                b3 = k1.fma(e, b3);
            }
            int j = p * W;
            a0.intoArray(sc, j);
            b0.intoArray(sc, j + V);
            a1.intoArray(sc, BLOCK + j);
            b1.intoArray(sc, BLOCK + j + V);
            a2.intoArray(sc, 2 * BLOCK + j);
            b2.intoArray(sc, 2 * BLOCK + j + V);
            a3.intoArray(sc, 3 * BLOCK + j);
            b3.intoArray(sc, 3 * BLOCK + j + V);
        }
    }

    /** max of sc[off, off + len), len a multiple of V; compare and blend, since C2 spends several instructions on Java's max. */
    static float blockMax(float[] sc, int off, int len) {
        FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < len; j += V) {
            FloatVector x = FloatVector.fromArray(S, sc, off + j);
            mx = mx.blend(x, x.compare(VectorOperators.GT, mx));
        }
        return mx.reduceLanes(VectorOperators.MAX);
    }

    /**
     * {@link #blockMax} of score rows [row, row + 4) (rows BLOCK apart) into max[row, row + 4), four chains of compare
     * and blend side by side. {@link #keyBlock} takes every row's max before any row's exp: with each max taken just
     * before its row's exp, the exp waited on that max's chain and reduction (probe, one thread, 8 rows × 128 keys:
     * softmax 425 against 325 ns).
     */
    private static void blockMax4(float[] sc, int row, int len, float[] max) {
        int o0 = row * BLOCK, o1 = o0 + BLOCK, o2 = o1 + BLOCK, o3 = o2 + BLOCK;
        FloatVector m0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0, m3 = m0;
        for (int j = 0; j < len; j += V) {
            FloatVector x = FloatVector.fromArray(S, sc, o0 + j);
            m0 = m0.blend(x, x.compare(VectorOperators.GT, m0));
            x = FloatVector.fromArray(S, sc, o1 + j);
            m1 = m1.blend(x, x.compare(VectorOperators.GT, m1));
            x = FloatVector.fromArray(S, sc, o2 + j);
            m2 = m2.blend(x, x.compare(VectorOperators.GT, m2));
            x = FloatVector.fromArray(S, sc, o3 + j);
            m3 = m3.blend(x, x.compare(VectorOperators.GT, m3));
        }
        max[row] = m0.reduceLanes(VectorOperators.MAX);
        max[row + 1] = m1.reduceLanes(VectorOperators.MAX);
        max[row + 2] = m2.reduceLanes(VectorOperators.MAX);
        max[row + 3] = m3.reduceLanes(VectorOperators.MAX);
    }

    /**
     * What K is scaled by: 1/√d, times log₂e, since softmax runs in base 2 ({@link VectorMath#exp2InPlace}):
     * e^(q·k/√d) = 2^(q·k·log₂e/√d), so the factor costs nothing where it is folded into K's copy.
     */
    static float scoreScale(int hd) {
        return (float) (LOG2_E / Math.sqrt(hd));
    }

    private static final double LOG2_E = 1.4426950408889634;

    /**
     * acc[r][c, c + W) = (first ? 0 : acc[r][c, c + W)·rescale[r]) + Σ_j p[r][j]·V[j][c, c + W) over one key block,
     * for the four queries (acc rows {@code accStride} apart); {@code vi} is the block's first key in the V chunk.
     * The last block writes the sums times inv[r] to out's rows instead, only the head's first hd dims of the chunk.
     */
    private static void values4(float[] vt, int vi, int bl, float[] sc, Queries qb, int accStride, int c, int hd,
                                boolean first, boolean last, float[] out) {
        float[] acc = qb.acc, rescale = qb.rescale;
        int o0 = c, o1 = o0 + accStride, o2 = o1 + accStride, o3 = o2 + accStride;
        FloatVector x0, y0, x1, y1, x2, y2, x3, y3;
        if (first) {
            x0 = y0 = x1 = y1 = x2 = y2 = x3 = y3 = FloatVector.zero(S);
        } else {
            x0 = FloatVector.fromArray(S, acc, o0).mul(rescale[0]);
            y0 = FloatVector.fromArray(S, acc, o0 + V).mul(rescale[0]);
            x1 = FloatVector.fromArray(S, acc, o1).mul(rescale[1]);
            y1 = FloatVector.fromArray(S, acc, o1 + V).mul(rescale[1]);
            x2 = FloatVector.fromArray(S, acc, o2).mul(rescale[2]);
            y2 = FloatVector.fromArray(S, acc, o2 + V).mul(rescale[2]);
            x3 = FloatVector.fromArray(S, acc, o3).mul(rescale[3]);
            y3 = FloatVector.fromArray(S, acc, o3 + V).mul(rescale[3]);
        }
        for (int j = 0; j < bl; j++) {
            FloatVector v0 = FloatVector.fromArray(S, vt, vi + j * W);
            FloatVector v1 = FloatVector.fromArray(S, vt, vi + j * W + V);
            FloatVector e = FloatVector.broadcast(S, sc[j]);
            x0 = v0.fma(e, x0);
            y0 = v1.fma(e, y0);
            e = FloatVector.broadcast(S, sc[BLOCK + j]);
            x1 = v0.fma(e, x1);
            y1 = v1.fma(e, y1);
            e = FloatVector.broadcast(S, sc[2 * BLOCK + j]);
            x2 = v0.fma(e, x2);
            y2 = v1.fma(e, y2);
            e = FloatVector.broadcast(S, sc[3 * BLOCK + j]);
            x3 = v0.fma(e, x3);
            y3 = v1.fma(e, y3);
        }
        if (!last) {
            x0.intoArray(acc, o0);
            y0.intoArray(acc, o0 + V);
            x1.intoArray(acc, o1);
            y1.intoArray(acc, o1 + V);
            x2.intoArray(acc, o2);
            y2.intoArray(acc, o2 + V);
            x3.intoArray(acc, o3);
            y3.intoArray(acc, o3 + V);
        } else if (c + W <= hd) {
            int[] rows = qb.outRows;
            float[] inv = qb.inv;
            x0.mul(inv[0]).intoArray(out, rows[0] + c);
            y0.mul(inv[0]).intoArray(out, rows[0] + c + V);
            x1.mul(inv[1]).intoArray(out, rows[1] + c);
            y1.mul(inv[1]).intoArray(out, rows[1] + c + V);
            x2.mul(inv[2]).intoArray(out, rows[2] + c);
            y2.mul(inv[2]).intoArray(out, rows[2] + c + V);
            x3.mul(inv[3]).intoArray(out, rows[3] + c);
            y3.mul(inv[3]).intoArray(out, rows[3] + c + V);
        } else {
            // a partial last chunk: through acc, then only its hd − c dims
            x0.mul(qb.inv[0]).intoArray(acc, o0);
            y0.mul(qb.inv[0]).intoArray(acc, o0 + V);
            x1.mul(qb.inv[1]).intoArray(acc, o1);
            y1.mul(qb.inv[1]).intoArray(acc, o1 + V);
            x2.mul(qb.inv[2]).intoArray(acc, o2);
            y2.mul(qb.inv[2]).intoArray(acc, o2 + V);
            x3.mul(qb.inv[3]).intoArray(acc, o3);
            y3.mul(qb.inv[3]).intoArray(acc, o3 + V);
            for (int r = 0; r < 4; r++) System.arraycopy(acc, c + r * accStride, out, qb.outRows[r] + c, hd - c);
        }
    }

    /** {@link #scores4} for the twelve queries at {@code rows[0..11]}. */
    private static void scores12(float[] qkv, int[] rows, float[] kt, int panel0, int panels, int hd, float[] sc) {
        int q0 = rows[0], q1 = rows[1], q2 = rows[2], q3 = rows[3], q4 = rows[4], q5 = rows[5], q6 = rows[6], q7 = rows[7], q8 = rows[8], q9 = rows[9], q10 = rows[10], q11 = rows[11];
        for (int p = 0; p < panels; p++) {
            int base = (panel0 + p) * hd * W;
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
            FloatVector a4 = FloatVector.zero(S), a5 = FloatVector.zero(S), a6 = FloatVector.zero(S), a7 = FloatVector.zero(S);
            FloatVector a8 = FloatVector.zero(S), a9 = FloatVector.zero(S), a10 = FloatVector.zero(S), a11 = FloatVector.zero(S);
            FloatVector b0 = FloatVector.zero(S), b1 = FloatVector.zero(S), b2 = FloatVector.zero(S), b3 = FloatVector.zero(S);
            FloatVector b4 = FloatVector.zero(S), b5 = FloatVector.zero(S), b6 = FloatVector.zero(S), b7 = FloatVector.zero(S);
            FloatVector b8 = FloatVector.zero(S), b9 = FloatVector.zero(S), b10 = FloatVector.zero(S), b11 = FloatVector.zero(S);
            for (int d = 0; d < hd; d++) {
                FloatVector k0 = FloatVector.fromArray(S, kt, base + d * W);
                FloatVector k1 = FloatVector.fromArray(S, kt, base + d * W + V);
                FloatVector e = FloatVector.broadcast(S, qkv[q0 + d]);
                a0 = k0.fma(e, a0);
                b0 = k1.fma(e, b0);
                e = FloatVector.broadcast(S, qkv[q1 + d]);
                a1 = k0.fma(e, a1);
                b1 = k1.fma(e, b1);
                e = FloatVector.broadcast(S, qkv[q2 + d]);
                a2 = k0.fma(e, a2);
                b2 = k1.fma(e, b2);
                e = FloatVector.broadcast(S, qkv[q3 + d]);
                a3 = k0.fma(e, a3);
                b3 = k1.fma(e, b3);
                e = FloatVector.broadcast(S, qkv[q4 + d]);
                a4 = k0.fma(e, a4);
                b4 = k1.fma(e, b4);
                e = FloatVector.broadcast(S, qkv[q5 + d]);
                a5 = k0.fma(e, a5);
                b5 = k1.fma(e, b5);
                e = FloatVector.broadcast(S, qkv[q6 + d]);
                a6 = k0.fma(e, a6);
                b6 = k1.fma(e, b6);
                e = FloatVector.broadcast(S, qkv[q7 + d]);
                a7 = k0.fma(e, a7);
                b7 = k1.fma(e, b7);
                e = FloatVector.broadcast(S, qkv[q8 + d]);
                a8 = k0.fma(e, a8);
                b8 = k1.fma(e, b8);
                e = FloatVector.broadcast(S, qkv[q9 + d]);
                a9 = k0.fma(e, a9);
                b9 = k1.fma(e, b9);
                e = FloatVector.broadcast(S, qkv[q10 + d]);
                a10 = k0.fma(e, a10);
                b10 = k1.fma(e, b10);
                e = FloatVector.broadcast(S, qkv[q11 + d]);
                a11 = k0.fma(e, a11);
                b11 = k1.fma(e, b11);
            }
            int j = p * W;
            a0.intoArray(sc, j);
            b0.intoArray(sc, j + V);
            a1.intoArray(sc, BLOCK + j);
            b1.intoArray(sc, BLOCK + j + V);
            a2.intoArray(sc, 2 * BLOCK + j);
            b2.intoArray(sc, 2 * BLOCK + j + V);
            a3.intoArray(sc, 3 * BLOCK + j);
            b3.intoArray(sc, 3 * BLOCK + j + V);
            a4.intoArray(sc, 4 * BLOCK + j);
            b4.intoArray(sc, 4 * BLOCK + j + V);
            a5.intoArray(sc, 5 * BLOCK + j);
            b5.intoArray(sc, 5 * BLOCK + j + V);
            a6.intoArray(sc, 6 * BLOCK + j);
            b6.intoArray(sc, 6 * BLOCK + j + V);
            a7.intoArray(sc, 7 * BLOCK + j);
            b7.intoArray(sc, 7 * BLOCK + j + V);
            a8.intoArray(sc, 8 * BLOCK + j);
            b8.intoArray(sc, 8 * BLOCK + j + V);
            a9.intoArray(sc, 9 * BLOCK + j);
            b9.intoArray(sc, 9 * BLOCK + j + V);
            a10.intoArray(sc, 10 * BLOCK + j);
            b10.intoArray(sc, 10 * BLOCK + j + V);
            a11.intoArray(sc, 11 * BLOCK + j);
            b11.intoArray(sc, 11 * BLOCK + j + V);
        }
    }

    /**
     * {@link #values4} for twelve queries, always through qb.acc (the first block's acc zeroed by the caller, so its
     * rescale of 0 gives 0), the last block's rows finished by {@link #finish}: a method with the first-block and
     * output branches of {@link #values4} at twelve queries was too large for C1, which then kept it at its
     * unprofiled tier with every vector boxed.
     */
    private static void values12(float[] vt, int vi, int bl, float[] sc, Queries qb, int accStride, int c) {
        float[] acc = qb.acc, rescale = qb.rescale;
        int o0 = c, o1 = o0 + accStride, o2 = o1 + accStride, o3 = o2 + accStride, o4 = o3 + accStride, o5 = o4 + accStride, o6 = o5 + accStride, o7 = o6 + accStride, o8 = o7 + accStride, o9 = o8 + accStride, o10 = o9 + accStride, o11 = o10 + accStride;
        FloatVector x0 = FloatVector.fromArray(S, acc, o0).mul(rescale[0]);
        FloatVector y0 = FloatVector.fromArray(S, acc, o0 + V).mul(rescale[0]);
        FloatVector x1 = FloatVector.fromArray(S, acc, o1).mul(rescale[1]);
        FloatVector y1 = FloatVector.fromArray(S, acc, o1 + V).mul(rescale[1]);
        FloatVector x2 = FloatVector.fromArray(S, acc, o2).mul(rescale[2]);
        FloatVector y2 = FloatVector.fromArray(S, acc, o2 + V).mul(rescale[2]);
        FloatVector x3 = FloatVector.fromArray(S, acc, o3).mul(rescale[3]);
        FloatVector y3 = FloatVector.fromArray(S, acc, o3 + V).mul(rescale[3]);
        FloatVector x4 = FloatVector.fromArray(S, acc, o4).mul(rescale[4]);
        FloatVector y4 = FloatVector.fromArray(S, acc, o4 + V).mul(rescale[4]);
        FloatVector x5 = FloatVector.fromArray(S, acc, o5).mul(rescale[5]);
        FloatVector y5 = FloatVector.fromArray(S, acc, o5 + V).mul(rescale[5]);
        FloatVector x6 = FloatVector.fromArray(S, acc, o6).mul(rescale[6]);
        FloatVector y6 = FloatVector.fromArray(S, acc, o6 + V).mul(rescale[6]);
        FloatVector x7 = FloatVector.fromArray(S, acc, o7).mul(rescale[7]);
        FloatVector y7 = FloatVector.fromArray(S, acc, o7 + V).mul(rescale[7]);
        FloatVector x8 = FloatVector.fromArray(S, acc, o8).mul(rescale[8]);
        FloatVector y8 = FloatVector.fromArray(S, acc, o8 + V).mul(rescale[8]);
        FloatVector x9 = FloatVector.fromArray(S, acc, o9).mul(rescale[9]);
        FloatVector y9 = FloatVector.fromArray(S, acc, o9 + V).mul(rescale[9]);
        FloatVector x10 = FloatVector.fromArray(S, acc, o10).mul(rescale[10]);
        FloatVector y10 = FloatVector.fromArray(S, acc, o10 + V).mul(rescale[10]);
        FloatVector x11 = FloatVector.fromArray(S, acc, o11).mul(rescale[11]);
        FloatVector y11 = FloatVector.fromArray(S, acc, o11 + V).mul(rescale[11]);
        for (int j = 0; j < bl; j++) {
            FloatVector v0 = FloatVector.fromArray(S, vt, vi + j * W);
            FloatVector v1 = FloatVector.fromArray(S, vt, vi + j * W + V);
            FloatVector e = FloatVector.broadcast(S, sc[j]);
            x0 = v0.fma(e, x0);
            y0 = v1.fma(e, y0);
            e = FloatVector.broadcast(S, sc[BLOCK + j]);
            x1 = v0.fma(e, x1);
            y1 = v1.fma(e, y1);
            e = FloatVector.broadcast(S, sc[2 * BLOCK + j]);
            x2 = v0.fma(e, x2);
            y2 = v1.fma(e, y2);
            e = FloatVector.broadcast(S, sc[3 * BLOCK + j]);
            x3 = v0.fma(e, x3);
            y3 = v1.fma(e, y3);
            e = FloatVector.broadcast(S, sc[4 * BLOCK + j]);
            x4 = v0.fma(e, x4);
            y4 = v1.fma(e, y4);
            e = FloatVector.broadcast(S, sc[5 * BLOCK + j]);
            x5 = v0.fma(e, x5);
            y5 = v1.fma(e, y5);
            e = FloatVector.broadcast(S, sc[6 * BLOCK + j]);
            x6 = v0.fma(e, x6);
            y6 = v1.fma(e, y6);
            e = FloatVector.broadcast(S, sc[7 * BLOCK + j]);
            x7 = v0.fma(e, x7);
            y7 = v1.fma(e, y7);
            e = FloatVector.broadcast(S, sc[8 * BLOCK + j]);
            x8 = v0.fma(e, x8);
            y8 = v1.fma(e, y8);
            e = FloatVector.broadcast(S, sc[9 * BLOCK + j]);
            x9 = v0.fma(e, x9);
            y9 = v1.fma(e, y9);
            e = FloatVector.broadcast(S, sc[10 * BLOCK + j]);
            x10 = v0.fma(e, x10);
            y10 = v1.fma(e, y10);
            e = FloatVector.broadcast(S, sc[11 * BLOCK + j]);
            x11 = v0.fma(e, x11);
            y11 = v1.fma(e, y11);
        }
        x0.intoArray(acc, o0);
        y0.intoArray(acc, o0 + V);
        x1.intoArray(acc, o1);
        y1.intoArray(acc, o1 + V);
        x2.intoArray(acc, o2);
        y2.intoArray(acc, o2 + V);
        x3.intoArray(acc, o3);
        y3.intoArray(acc, o3 + V);
        x4.intoArray(acc, o4);
        y4.intoArray(acc, o4 + V);
        x5.intoArray(acc, o5);
        y5.intoArray(acc, o5 + V);
        x6.intoArray(acc, o6);
        y6.intoArray(acc, o6 + V);
        x7.intoArray(acc, o7);
        y7.intoArray(acc, o7 + V);
        x8.intoArray(acc, o8);
        y8.intoArray(acc, o8 + V);
        x9.intoArray(acc, o9);
        y9.intoArray(acc, o9 + V);
        x10.intoArray(acc, o10);
        y10.intoArray(acc, o10 + V);
        x11.intoArray(acc, o11);
        y11.intoArray(acc, o11 + V);
    }

    /** out's rows of the qr queries of qb = their weighted values (qb.acc) times 1 / sum, the head's hd dims. */
    private static void finish(Queries qb, int qr, int accStride, int hd, float[] out) {
        for (int r = 0; r < qr; r++) {
            int from = r * accStride, to = qb.outRows[r];
            float inv = qb.inv[r];
            int d = 0;
            for (; d + V <= hd; d += V) FloatVector.fromArray(S, qb.acc, from + d).mul(inv).intoArray(out, to + d);
            for (; d < hd; d++) out[to + d] = qb.acc[from + d] * inv;
        }
    }
}
