package dev.rerank4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link dev.rerank4j.backend.RelativeAttentionKernels#disentangledAttention}, one (sequence, head) pair per work item:
 * each query's scores against every key of its sequence, three dot products a pair (content, content-to-position,
 * position-to-content), then softmax in base 2 and the weighted values. Plain rather than tiled: DeBERTa's position terms
 * index the relative embeddings by each pair's distance bucket, which the blocked kernel's K panels cannot hold.
 */
final class DisentangledAttentionKernel {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int V = S.length();
    private static final double LOG2_E = 1.4426950408889634;

    private DisentangledAttentionKernel() {}

    private static final class Scratch {
        float[] scores = new float[0];
        float[] acc = new float[0];
    }

    private static final ScratchPool<Scratch> SCRATCH = new ScratchPool<>(Scratch::new, ScratchPool.PER_MACHINE);

    static void run(float[] qkv, int[] seqStarts, float[] positions, int[] rows, boolean c2p, boolean p2c, float scale, int heads,
                    int headDim, float[] out, ParallelFor pf) {
        int sequences = seqStarts.length - 1;
        pf.forEach(sequences * heads, SCRATCH, (s, item) -> {
            int b = item / heads, h = item % heads;
            head(qkv, seqStarts[b], seqStarts[b + 1] - seqStarts[b], positions, rows, c2p, p2c, scale, h, heads, headDim, out, s);
        });
    }

    private static void head(float[] qkv, int t0, int length, float[] positions, int[] rows, boolean c2p, boolean p2c, float scale,
                             int h, int heads, int hd, float[] out, Scratch s) {
        int stride = 3 * heads * hd, qOff = h * hd, kOff = (heads + h) * hd, vOff = (2 * heads + h) * hd, center = (rows.length - 1) / 2;
        int padded = (length + V - 1) / V * V;
        if (s.scores.length < padded) s.scores = new float[padded];
        if (s.acc.length < hd) s.acc = new float[hd];
        float[] sc = s.scores, acc = s.acc;
        float base2 = (float) (scale * LOG2_E); // softmax in base 2: e^x = 2^(x·log₂e)
        for (int i = 0; i < length; i++) {
            int q = (t0 + i) * stride + qOff;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < length; j++) {
                int k = (t0 + j) * stride + kOff, r = rows[i - j + center] * stride;
                float score = dot(qkv, q, qkv, k, hd);
                if (c2p) score += dot(qkv, q, positions, r + kOff, hd);
                if (p2c) score += dot(qkv, k, positions, r + qOff, hd);
                sc[j] = score * base2;
                max = Math.max(max, sc[j]);
            }
            java.util.Arrays.fill(sc, length, padded, Float.NEGATIVE_INFINITY);
            float inv = 1f / VectorMath.exp2InPlace(sc, 0, padded, max);
            java.util.Arrays.fill(acc, 0, hd, 0f);
            for (int j = 0; j < length; j++) axpy(sc[j], qkv, (t0 + j) * stride + vOff, acc, hd);
            int o = (t0 + i) * heads * hd + h * hd;
            for (int d = 0; d < hd; d++) out[o + d] = acc[d] * inv;
        }
    }

    private static float dot(float[] a, int aAt, float[] b, int bAt, int n) {
        int i = 0;
        FloatVector sum = FloatVector.zero(S);
        for (; i + V <= n; i += V) sum = FloatVector.fromArray(S, a, aAt + i).fma(FloatVector.fromArray(S, b, bAt + i), sum);
        float total = sum.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) total = Math.fma(a[aAt + i], b[bAt + i], total);
        return total;
    }

    /** acc[0, n) += w · x[at, at + n). */
    private static void axpy(float w, float[] x, int at, float[] acc, int n) {
        int i = 0;
        FloatVector weight = FloatVector.broadcast(S, w);
        for (; i + V <= n; i += V) FloatVector.fromArray(S, x, at + i).fma(weight, FloatVector.fromArray(S, acc, i)).intoArray(acc, i);
        for (; i < n; i++) acc[i] = Math.fma(w, x[at + i], acc[i]);
    }
}
