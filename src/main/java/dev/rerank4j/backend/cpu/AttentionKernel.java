package dev.rerank4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Bidirectional multi-head attention over ragged sequences, one (sequence, head) pair per work item.
 * K of the pair is copied transposed ([headDim, L], pre-scaled by 1/√d) so scores for a query are
 * FMAs along L with q broadcast, no horizontal sums. Queries go four at a time so each K vector
 * loaded feeds four rows. Keys are taken in blocks of {@link #BLOCK} with an online softmax (running
 * max and sum per query, earlier partial sums rescaled by exp(m_old − m_new), as flash-attention
 * does), so the score buffer is 4 × BLOCK floats whatever L is. Scratch is per worker and
 * O(headDim·L) (the transposed K); the L×L score matrix never exists.
 */
final class AttentionKernel {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int V = S.length();
    private static final int QR = 4;
    /** Keys per online-softmax block; a multiple of every vector length. 4 × 256 scores = 4 KB, in L1. */
    static final int BLOCK = 256;

    /** Per-worker buffers, grown to the longest sequence seen. */
    private static final class Scratch {
        float[] kt = new float[0];
        final float[] scores = new float[QR * BLOCK];
        float[] acc = new float[0];
        final float[] max = new float[QR];
        final float[] sum = new float[QR];
        final float[] rescale = new float[QR];
    }

    private AttentionKernel() {}

    static void attention(float[] qkv, int[] seqStarts, int heads, int headDim, float[] out, ParallelFor pf) {
        attention(qkv, seqStarts, null, heads, headDim, out, pf);
    }

    /** As above; sequence b's queries attend to its first {@code keyLengths[b]} tokens only (all when null). */
    static void attention(float[] qkv, int[] seqStarts, int[] keyLengths, int heads, int headDim, float[] out, ParallelFor pf) {
        int seqs = seqStarts.length - 1;
        // Longest sequences first, so the last items handed out are the short ones.
        Integer[] order = new Integer[seqs];
        for (int b = 0; b < seqs; b++) order[b] = b;
        java.util.Arrays.sort(order, (a, b) -> Integer.compare(seqStarts[b + 1] - seqStarts[b], seqStarts[a + 1] - seqStarts[a]));
        pf.forEach(seqs * heads, Scratch::new, (s, item) -> {
            int b = order[item / heads];
            int keys = keyLengths == null ? seqStarts[b + 1] - seqStarts[b] : keyLengths[b];
            head(qkv, seqStarts[b], seqStarts[b + 1], keys, item % heads, heads, headDim, out, s);
        });
    }

    static void head(float[] qkv, int t0, int t1, int h, int heads, int hd, float[] out, Scratch s) {
        head(qkv, t0, t1, t1 - t0, h, heads, hd, out, s);
    }

    /** Queries are tokens [t0, t1); keys and values only the first {@code keys} of them. */
    static void head(float[] qkv, int t0, int t1, int keys, int h, int heads, int hd, float[] out, Scratch s) {
        int len = t1 - t0;
        if (len == 0) return;
        int lp = (keys + V - 1) / V * V;
        int stride = 3 * heads * hd, outStride = heads * hd;
        if (s.kt.length < hd * lp) s.kt = new float[hd * lp];
        if (s.acc.length < QR * hd) s.acc = new float[QR * hd];
        float[] kt = s.kt;
        float scale = (float) (1.0 / Math.sqrt(hd));
        int kOff = heads * hd + h * hd, vOff = 2 * heads * hd + h * hd, qOff = h * hd;
        for (int j = 0; j < keys; j++) {
            int src = (t0 + j) * stride + kOff;
            for (int d = 0; d < hd; d++) kt[d * lp + j] = qkv[src + d] * scale;
        }
        for (int d = 0; d < hd; d++) java.util.Arrays.fill(kt, d * lp + keys, d * lp + lp, 0f);

        for (int i = 0; i < len; i += QR) {
            // Rows past the end repeat the last query; their results are dropped.
            int q0 = (t0 + i) * stride + qOff;
            int q1 = (t0 + Math.min(i + 1, len - 1)) * stride + qOff;
            int q2 = (t0 + Math.min(i + 2, len - 1)) * stride + qOff;
            int q3 = (t0 + Math.min(i + 3, len - 1)) * stride + qOff;
            java.util.Arrays.fill(s.max, Float.NEGATIVE_INFINITY);
            java.util.Arrays.fill(s.sum, 0f);
            java.util.Arrays.fill(s.acc, 0, QR * hd, 0f);
            for (int j0 = 0; j0 < keys; j0 += BLOCK) {
                keyBlock(qkv, q0, q1, q2, q3, kt, lp, j0, Math.min(BLOCK, keys - j0), t0, stride, vOff, hd, s);
            }
            finish(s, hd, Math.min(QR, len - i), out, (t0 + i) * outStride + qOff, outStride);
        }
    }

    /** Folds keys [j0, j0 + bl) into the running max, sum and weighted values of four queries. */
    private static void keyBlock(float[] qkv, int q0, int q1, int q2, int q3, float[] kt, int lp, int j0, int bl,
                                 int t0, int stride, int vOff, int hd, Scratch s) {
        float[] sc = s.scores;
        scores(qkv, q0, q1, q2, q3, kt, lp, j0, (bl + V - 1) / V * V, hd, sc);
        for (int r = 0; r < QR; r++) {
            float old = s.max[r];
            float m = Math.max(old, blockMax(sc, r * BLOCK, bl));
            // First block: the old max is -inf and acc/sum are 0, so the rescale factor does not matter.
            float rescale = old == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(old - m);
            s.rescale[r] = rescale;
            s.sum[r] = s.sum[r] * rescale + expInPlace(sc, r * BLOCK, bl, m);
            s.max[r] = m;
        }
        weightedValues(qkv, t0 + j0, bl, stride, vOff, hd, sc, s.rescale, s.acc);
    }

    /** out row r = acc[r] / sum[r] for the first {@code rows} of the four queries. */
    private static void finish(Scratch s, int hd, int rows, float[] out, int o, int outStride) {
        for (int r = 0; r < rows; r++, o += outStride) {
            float inv = 1f / s.sum[r];
            for (int d = 0; d < hd; d++) out[o + d] = s.acc[r * hd + d] * inv;
        }
    }

    /** Scores of four queries against keys [j0, j0 + count) (count a multiple of V, within lp) into sc rows of BLOCK. */
    private static void scores(float[] qkv, int q0, int q1, int q2, int q3, float[] kt, int lp, int j0, int count, int hd, float[] sc) {
        for (int j = 0; j < count; j += V) {
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
            for (int d = 0, ki = j0 + j; d < hd; d++, ki += lp) {
                FloatVector k = FloatVector.fromArray(S, kt, ki);
                a0 = k.fma(FloatVector.broadcast(S, qkv[q0 + d]), a0);
                a1 = k.fma(FloatVector.broadcast(S, qkv[q1 + d]), a1);
                a2 = k.fma(FloatVector.broadcast(S, qkv[q2 + d]), a2);
                a3 = k.fma(FloatVector.broadcast(S, qkv[q3 + d]), a3);
            }
            a0.intoArray(sc, j);
            a1.intoArray(sc, BLOCK + j);
            a2.intoArray(sc, 2 * BLOCK + j);
            a3.intoArray(sc, 3 * BLOCK + j);
        }
    }

    /** max of sc[off, off+len). */
    private static float blockMax(float[] sc, int off, int len) {
        FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < len; j += V) {
            VectorMask<Float> m = S.indexInRange(j, len);
            mx = mx.max(FloatVector.fromArray(S, sc, off + j, m).blend(Float.NEGATIVE_INFINITY, m.not()));
        }
        return mx.reduceLanes(VectorOperators.MAX);
    }

    /** Replaces sc[off, off+len) by exp(s - max); returns Σ exp. Padding lanes become 0. */
    private static float expInPlace(float[] sc, int off, int len, float max) {
        FloatVector sum = FloatVector.zero(S);
        for (int j = 0; j < len; j += V) {
            VectorMask<Float> m = S.indexInRange(j, len);
            FloatVector e = FloatVector.fromArray(S, sc, off + j, m).sub(max).lanewise(VectorOperators.EXP)
                    .blend(0f, m.not());
            e.intoArray(sc, off + j);
            sum = sum.add(e);
        }
        return sum.reduceLanes(VectorOperators.ADD);
    }

    /**
     * acc[r] = acc[r]·rescale[r] + Σ_j p[r][j]·V[j] over one key block (keys from token t), for each chunk of
     * {@code V} lanes. One chunk per call keeps the method small: C1 gives up on large vector methods ("out of
     * virtual registers") and the chunk loop then ran in the interpreter for seconds, allocating every vector.
     */
    private static void weightedValues(float[] qkv, int t, int bl, int stride, int vOff, int hd, float[] sc,
                                       float[] rescale, float[] acc) {
        for (int c = 0; c < hd; c += V) valuesChunk(qkv, t * stride + vOff + c, bl, stride, S.indexInRange(c, hd),
                sc, rescale, acc, c, hd);
    }

    private static void valuesChunk(float[] qkv, int vi, int bl, int stride, VectorMask<Float> m, float[] sc,
                                    float[] rescale, float[] acc, int c, int hd) {
        FloatVector x0 = FloatVector.fromArray(S, acc, c, m).mul(rescale[0]);
        FloatVector x1 = FloatVector.fromArray(S, acc, hd + c, m).mul(rescale[1]);
        FloatVector x2 = FloatVector.fromArray(S, acc, 2 * hd + c, m).mul(rescale[2]);
        FloatVector x3 = FloatVector.fromArray(S, acc, 3 * hd + c, m).mul(rescale[3]);
        for (int j = 0; j < bl; j++, vi += stride) {
            FloatVector v = FloatVector.fromArray(S, qkv, vi, m);
            x0 = v.fma(FloatVector.broadcast(S, sc[j]), x0);
            x1 = v.fma(FloatVector.broadcast(S, sc[BLOCK + j]), x1);
            x2 = v.fma(FloatVector.broadcast(S, sc[2 * BLOCK + j]), x2);
            x3 = v.fma(FloatVector.broadcast(S, sc[3 * BLOCK + j]), x3);
        }
        x0.intoArray(acc, c, m);
        x1.intoArray(acc, hd + c, m);
        x2.intoArray(acc, 2 * hd + c, m);
        x3.intoArray(acc, 3 * hd + c, m);
    }
}
