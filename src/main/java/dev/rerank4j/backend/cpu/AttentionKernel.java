package dev.rerank4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Bidirectional multi-head attention over ragged sequences, one (sequence, head) pair per work item.
 * K of the pair is copied transposed ([headDim, L], pre-scaled by 1/√d) so scores for a query are
 * FMAs along L with q broadcast, no horizontal sums. Queries go four at a time so each K vector
 * loaded feeds four rows. Scratch is per worker and O(headDim·L); the L×L score matrix never exists.
 */
final class AttentionKernel {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int V = S.length();
    private static final int QR = 4;

    /** Per-worker buffers, grown to the longest sequence seen. */
    private static final class Scratch {
        float[] kt = new float[0];
        float[] scores = new float[0];
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
        if (s.scores.length < QR * lp) s.scores = new float[QR * lp];
        float[] kt = s.kt, sc = s.scores;
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
            scores(qkv, q0, q1, q2, q3, kt, lp, hd, sc);
            float[] inv = new float[QR];
            for (int r = 0; r < QR; r++) inv[r] = softmaxUnnormalised(sc, r * lp, keys);
            int rows = Math.min(QR, len - i);
            weightedValues(qkv, t0, keys, stride, vOff, hd, sc, lp, inv, rows, out, (t0 + i) * outStride + qOff, outStride);
        }
    }

    private static void scores(float[] qkv, int q0, int q1, int q2, int q3, float[] kt, int lp, int hd, float[] sc) {
        for (int j = 0; j < lp; j += V) {
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
            for (int d = 0, ki = j; d < hd; d++, ki += lp) {
                FloatVector k = FloatVector.fromArray(S, kt, ki);
                a0 = k.fma(FloatVector.broadcast(S, qkv[q0 + d]), a0);
                a1 = k.fma(FloatVector.broadcast(S, qkv[q1 + d]), a1);
                a2 = k.fma(FloatVector.broadcast(S, qkv[q2 + d]), a2);
                a3 = k.fma(FloatVector.broadcast(S, qkv[q3 + d]), a3);
            }
            a0.intoArray(sc, j);
            a1.intoArray(sc, lp + j);
            a2.intoArray(sc, 2 * lp + j);
            a3.intoArray(sc, 3 * lp + j);
        }
    }

    /** Replaces sc[off, off+len) by exp(s - max); returns 1 / Σ exp. Padding lanes become 0. */
    private static float softmaxUnnormalised(float[] sc, int off, int len) {
        FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < len; j += V) {
            VectorMask<Float> m = S.indexInRange(j, len);
            mx = mx.max(FloatVector.fromArray(S, sc, off + j, m).blend(Float.NEGATIVE_INFINITY, m.not()));
        }
        float max = mx.reduceLanes(VectorOperators.MAX);
        FloatVector sum = FloatVector.zero(S);
        for (int j = 0; j < len; j += V) {
            VectorMask<Float> m = S.indexInRange(j, len);
            FloatVector e = FloatVector.fromArray(S, sc, off + j, m).sub(max).lanewise(VectorOperators.EXP)
                    .blend(0f, m.not());
            e.intoArray(sc, off + j);
            sum = sum.add(e);
        }
        return 1f / sum.reduceLanes(VectorOperators.ADD);
    }

    /**
     * out rows [i, i + rows) += Σ_j p[r][j]·V[j] for one chunk of {@code V} lanes starting at c. One
     * chunk per call keeps the method small: C1 gives up on large vector methods ("out of virtual
     * registers") and the chunk loop then ran in the interpreter for seconds, allocating every vector.
     */
    private static void weightedValues(float[] qkv, int t0, int len, int stride, int vOff, int hd, float[] sc, int lp,
                                       float[] inv, int rows, float[] out, int o0, int outStride) {
        for (int c = 0; c < hd; c += V) valuesChunk(qkv, t0 * stride + vOff + c, len, stride, S.indexInRange(c, hd),
                sc, lp, inv, rows, out, o0 + c, outStride);
    }

    private static void valuesChunk(float[] qkv, int vi, int len, int stride, VectorMask<Float> m, float[] sc, int lp,
                                    float[] inv, int rows, float[] out, int o, int outStride) {
        FloatVector x0 = FloatVector.zero(S), x1 = FloatVector.zero(S), x2 = FloatVector.zero(S), x3 = FloatVector.zero(S);
        for (int j = 0; j < len; j++, vi += stride) {
            FloatVector v = FloatVector.fromArray(S, qkv, vi, m);
            x0 = v.fma(FloatVector.broadcast(S, sc[j]), x0);
            x1 = v.fma(FloatVector.broadcast(S, sc[lp + j]), x1);
            x2 = v.fma(FloatVector.broadcast(S, sc[2 * lp + j]), x2);
            x3 = v.fma(FloatVector.broadcast(S, sc[3 * lp + j]), x3);
        }
        x0.mul(inv[0]).intoArray(out, o, m);
        if (rows > 1) x1.mul(inv[1]).intoArray(out, o + outStride, m);
        if (rows > 2) x2.mul(inv[2]).intoArray(out, o + 2 * outStride, m);
        if (rows > 3) x3.mul(inv[3]).intoArray(out, o + 3 * outStride, m);
    }
}
