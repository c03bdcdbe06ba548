package dev.rerank4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link dev.rerank4j.backend.RelativeAttentionKernels#disentangledAttention}, one (sequence, head) pair per work item.
 * Every term is a product of two small matrices vectorized along the keys or the rows, none a dot product per pair
 * (whose horizontal sums made the first version, three dot products a pair, take 5 of a DeBERTa-v3-base call's 9.5 s
 * on 32 × 256 tokens): K is transposed once ([d][key]), so a query's content scores are FMAs along the keys; the
 * position keys are transposed likewise, so its content-to-position scores are FMAs along the rows r it can reach; the
 * position-to-content terms k_j·pq_r are one [key][row] table per item, each key's and query's only over the rows its
 * distances reach. A query's score for key j then adds its two position terms at j's row r(i − j), which the distances
 * make a gather. Softmax in base 2, then the weighted values with their sums in registers. A random model of
 * deberta-v3-base's shape, 32 pairs of 256 tokens, two threads (Xeon, 2026-12-06): 6.6–6.9 s a call against 9.4–9.6 s
 * with a dot product per pair and term; transformers (eager, torch 2.15, two threads) 9.7 s. Attention is then about
 * 40% of the samples, the GEMM most of the rest.
 */
final class DisentangledAttentionKernel {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int V = S.length();
    private static final double LOG2_E = 1.4426950408889634;

    private DisentangledAttentionKernel() {}

    /** A worker's buffers, grown to the largest item seen. */
    private static final class Scratch {
        float[] keys = new float[0];         // [d][padded keys]
        float[] positionKeys = new float[0]; // [d][padded rows]
        float[] positionQueries = new float[0];
        float[] p2c = new float[0];          // [key][padded rows]
        float[] c2p = new float[0];          // [padded rows], one query's
        float[] scores = new float[0];

        static float[] grow(float[] a, int n) {
            return a.length >= n ? a : new float[n];
        }
    }

    private static final ScratchPool<Scratch> SCRATCH = new ScratchPool<>(Scratch::new, ScratchPool.PER_MACHINE);

    static void run(float[] qkv, int[] seqStarts, float[] positions, int[] rows, boolean c2p, boolean p2c, float scale, int heads,
                    int headDim, float[] out, ParallelFor pf) {
        int sequences = seqStarts.length - 1;
        pf.forEach(sequences * heads, SCRATCH, (s, item) -> {
            int b = item / heads, h = item % heads;
            int length = seqStarts[b + 1] - seqStarts[b];
            if (length > 0) head(qkv, seqStarts[b], length, positions, rows, c2p, p2c, scale, h, heads, headDim, out, s);
        });
    }

    private static void head(float[] qkv, int t0, int length, float[] positions, int[] rows, boolean c2p, boolean p2c, float scale,
                             int h, int heads, int hd, float[] out, Scratch s) {
        int stride = 3 * heads * hd, qOff = h * hd, kOff = (heads + h) * hd, vOff = (2 * heads + h) * hd, center = (rows.length - 1) / 2;
        // the rows of the item's distances, −(length − 1) … length − 1 (a model's buckets need not grow with the distance)
        int first = min(rows, center - (length - 1), center + length), last = max(rows, center - (length - 1), center + length);
        int keysPadded = pad(length), rowsPadded = pad(last - first + 1);
        s.keys = Scratch.grow(s.keys, hd * keysPadded);
        s.scores = Scratch.grow(s.scores, keysPadded);
        transpose(qkv, t0 * stride + kOff, stride, length, keysPadded, hd, s.keys);
        if (c2p) {
            s.positionKeys = Scratch.grow(s.positionKeys, hd * rowsPadded);
            s.c2p = Scratch.grow(s.c2p, rowsPadded);
            transpose(positions, first * stride + kOff, stride, last - first + 1, rowsPadded, hd, s.positionKeys);
        }
        if (p2c) {
            s.positionQueries = Scratch.grow(s.positionQueries, hd * rowsPadded);
            s.p2c = Scratch.grow(s.p2c, length * rowsPadded);
            transpose(positions, first * stride + qOff, stride, last - first + 1, rowsPadded, hd, s.positionQueries);
            for (int j = 0; j < length; j++) { // key j is reached from distances −j … length − 1 − j
                int from = (min(rows, center - j, center + length - j) - first) / V * V;
                int to = max(rows, center - j, center + length - j) - first + 1;
                products(qkv, (t0 + j) * stride + kOff, s.positionQueries, rowsPadded, from, to, hd, s.p2c, j * rowsPadded);
            }
        }
        float[] sc = s.scores;
        float base2 = (float) (scale * LOG2_E); // softmax in base 2: e^x = 2^(x·log₂e)
        for (int i = 0; i < length; i++) {
            int q = (t0 + i) * stride + qOff;
            products(qkv, q, s.keys, keysPadded, 0, length, hd, sc, 0);
            if (c2p) { // query i reaches distances i − length + 1 … i
                int from = (min(rows, center + i - length + 1, center + i + 1) - first) / V * V;
                int to = max(rows, center + i - length + 1, center + i + 1) - first + 1;
                products(qkv, q, s.positionKeys, rowsPadded, from, to, hd, s.c2p, 0);
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0, d = i + center; j < length; j++, d--) {
                int r = rows[d] - first;
                float score = sc[j];
                if (c2p) score += s.c2p[r];
                if (p2c) score += s.p2c[j * rowsPadded + r];
                sc[j] = score * base2;
                max = Math.max(max, sc[j]);
            }
            java.util.Arrays.fill(sc, length, keysPadded, Float.NEGATIVE_INFINITY);
            float inv = 1f / VectorMath.exp2InPlace(sc, 0, keysPadded, max);
            weightedValues(sc, length, qkv, t0 * stride + vOff, stride, hd, inv, out, (t0 + i) * heads * hd + h * hd);
        }
    }

    /** The smallest of rows[from, to). */
    private static int min(int[] rows, int from, int to) {
        int m = Integer.MAX_VALUE;
        for (int k = from; k < to; k++) m = Math.min(m, rows[k]);
        return m;
    }

    /** The largest of rows[from, to). */
    private static int max(int[] rows, int from, int to) {
        int m = Integer.MIN_VALUE;
        for (int k = from; k < to; k++) m = Math.max(m, rows[k]);
        return m;
    }

    private static int pad(int n) {
        return (n + V - 1) / V * V;
    }

    /** dst[d][c] = src[at + c·stride + d] for c &lt; count, zeros up to {@code padded} columns. */
    private static void transpose(float[] src, int at, int stride, int count, int padded, int hd, float[] dst) {
        for (int d = 0; d < hd; d++) {
            int row = d * padded;
            for (int c = 0; c < count; c++) dst[row + c] = src[at + c * stride + d];
            java.util.Arrays.fill(dst, row + count, row + padded, 0f);
        }
    }

    /**
     * dst[to + c] = Σ_d x[at + d] · t[d][c] for the columns c in [from, to) of the transposed t (from a multiple of V, the
     * last vector whole: t is zero-padded): FMAs along the columns, four vectors of them at a time, so that four chains
     * run side by side rather than one waiting on its own latency.
     */
    private static void products(float[] x, int at, float[] t, int padded, int from, int to, int hd, float[] dst, int dstAt) {
        int c = from;
        for (; c + 4 * V <= to; c += 4 * V) {
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            for (int d = 0, row = c; d < hd; d++, row += padded) {
                FloatVector e = FloatVector.broadcast(S, x[at + d]);
                s0 = FloatVector.fromArray(S, t, row).fma(e, s0);
                s1 = FloatVector.fromArray(S, t, row + V).fma(e, s1);
                s2 = FloatVector.fromArray(S, t, row + 2 * V).fma(e, s2);
                s3 = FloatVector.fromArray(S, t, row + 3 * V).fma(e, s3);
            }
            s0.intoArray(dst, dstAt + c);
            s1.intoArray(dst, dstAt + c + V);
            s2.intoArray(dst, dstAt + c + 2 * V);
            s3.intoArray(dst, dstAt + c + 3 * V);
        }
        for (; c < to; c += V) {
            FloatVector sum = FloatVector.zero(S);
            for (int d = 0, row = c; d < hd; d++, row += padded) sum = FloatVector.fromArray(S, t, row).fma(FloatVector.broadcast(S, x[at + d]), sum);
            sum.intoArray(dst, dstAt + c);
        }
    }

    /**
     * out[o, o + hd) = inv · Σ_j p_j · v_j over the first {@code length} keys, v_j at vAt + j·stride: the sums stay in
     * registers, four vectors of dims at a time, while the keys stream past.
     */
    private static void weightedValues(float[] p, int length, float[] qkv, int vAt, int stride, int hd, float inv, float[] out, int o) {
        int d = 0;
        for (; d + 4 * V <= hd; d += 4 * V) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int j = 0, v = vAt + d; j < length; j++, v += stride) {
                FloatVector w = FloatVector.broadcast(S, p[j]);
                a0 = FloatVector.fromArray(S, qkv, v).fma(w, a0);
                a1 = FloatVector.fromArray(S, qkv, v + V).fma(w, a1);
                a2 = FloatVector.fromArray(S, qkv, v + 2 * V).fma(w, a2);
                a3 = FloatVector.fromArray(S, qkv, v + 3 * V).fma(w, a3);
            }
            a0.mul(inv).intoArray(out, o + d);
            a1.mul(inv).intoArray(out, o + d + V);
            a2.mul(inv).intoArray(out, o + d + 2 * V);
            a3.mul(inv).intoArray(out, o + d + 3 * V);
        }
        for (; d + V <= hd; d += V) {
            FloatVector a = FloatVector.zero(S);
            for (int j = 0, v = vAt + d; j < length; j++, v += stride) a = FloatVector.fromArray(S, qkv, v).fma(FloatVector.broadcast(S, p[j]), a);
            a.mul(inv).intoArray(out, o + d);
        }
        for (; d < hd; d++) {
            float a = 0;
            for (int j = 0, v = vAt + d; j < length; j++, v += stride) a = Math.fma(p[j], qkv[v], a);
            out[o + d] = a * inv;
        }
    }
}
