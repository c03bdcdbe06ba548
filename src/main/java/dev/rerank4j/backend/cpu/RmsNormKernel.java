package dev.rerank4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * RMSNorm as transformers' Qwen2RMSNorm and Qwen3RMSNorm round it: x · (1/√(mean(x²) + eps)), then times γ; the residual add before it
 * fused, as {@link LayerNormKernel#addAndNormalize} fuses LayerNorm's.
 */
final class RmsNormKernel {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int V = S.length();
    /** Below this many elements per item, handing rows to another core costs more than it saves. */
    private static final int ITEM_ELEMENTS = 16 * 1024;

    private RmsNormKernel() {}

    /** x ← x + delta (none where delta is null), then normed ← RMSNorm(x)·γ, row by row. */
    static void addAndNormalize(float[] x, float[] delta, int rows, int dim, float[] gamma, float eps, float[] normed, ParallelFor pf) {
        int rowsPerItem = Math.max(1, ITEM_ELEMENTS / dim);
        int items = (rows + rowsPerItem - 1) / rowsPerItem;
        pf.forEach(items, (none, item) -> {
            for (int r = item * rowsPerItem, end = Math.min(rows, r + rowsPerItem); r < end; r++) {
                if (delta != null) add(x, delta, r * dim, dim);
                normalize(x, r * dim, dim, gamma, eps, normed, r * dim);
            }
        });
    }

    /** out[outAt, +dim) = RMSNorm(x[at, +dim))·γ; out may be x itself (each element is read before it is written). */
    static void normalize(float[] x, int at, int dim, float[] gamma, float eps, float[] out, int outAt) {
        float r = (float) (1.0 / Math.sqrt(meanOfSquares(x, at, dim) + eps));
        int bound = S.loopBound(dim), i = 0;
        for (; i < bound; i += V) {
            FloatVector.fromArray(S, x, at + i).mul(r).mul(FloatVector.fromArray(S, gamma, i)).intoArray(out, outAt + i);
        }
        for (; i < dim; i++) out[outAt + i] = x[at + i] * r * gamma[i];
    }

    private static float meanOfSquares(float[] x, int at, int dim) {
        int bound = S.loopBound(dim), i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (; i < bound; i += V) {
            FloatVector v = FloatVector.fromArray(S, x, at + i);
            acc = v.fma(v, acc);
        }
        float total = VectorMath.sum(acc);
        for (; i < dim; i++) total = Math.fma(x[at + i], x[at + i], total);
        return total / dim;
    }

    private static void add(float[] x, float[] delta, int at, int dim) {
        int bound = S.loopBound(dim), i = 0;
        for (; i < bound; i += V) {
            FloatVector.fromArray(S, x, at + i).add(FloatVector.fromArray(S, delta, at + i)).intoArray(x, at + i);
        }
        for (; i < dim; i++) x[at + i] += delta[at + i];
    }
}
