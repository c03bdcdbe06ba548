package dev.rerank4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused residual add + LayerNorm, in place. Two passes for the statistics (mean, then the biased
 * variance around it) rather than E[x²] - E[x]², which loses digits when |mean| ≫ std, as it can after
 * a residual add.
 */
final class LayerNormKernel {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int V = S.length();
    /** Below this many elements per item, handing rows to another core costs more than it saves. */
    private static final int ITEM_ELEMENTS = 16 * 1024;

    private LayerNormKernel() {}

    static void addLayerNorm(float[] x, float[] residual, int rows, int dim, float[] gamma, float[] beta, float eps,
                             ParallelFor pf) {
        int rowsPerItem = Math.max(1, ITEM_ELEMENTS / dim);
        int items = (rows + rowsPerItem - 1) / rowsPerItem;
        pf.forEach(items, (s, item) -> {
            int r1 = Math.min(rows, (item + 1) * rowsPerItem);
            for (int r = item * rowsPerItem; r < r1; r++) row(x, residual, r * dim, dim, gamma, beta, eps);
        });
    }

    static void row(float[] x, float[] residual, int off, int dim, float[] gamma, float[] beta, float eps) {
        FloatVector sum = FloatVector.zero(S);
        for (int i = 0; i < dim; i += V) {
            VectorMask<Float> m = S.indexInRange(i, dim);
            FloatVector v = FloatVector.fromArray(S, x, off + i, m);
            if (residual != null) {
                v = v.add(FloatVector.fromArray(S, residual, off + i, m));
                v.intoArray(x, off + i, m);
            }
            sum = sum.add(v);
        }
        float mean = sum.reduceLanes(VectorOperators.ADD) / dim;
        FloatVector sq = FloatVector.zero(S);
        for (int i = 0; i < dim; i += V) {
            VectorMask<Float> m = S.indexInRange(i, dim);
            FloatVector d = FloatVector.fromArray(S, x, off + i, m).sub(mean);
            sq = d.fma(d, sq).blend(sq, m.not());
        }
        float var = sq.reduceLanes(VectorOperators.ADD) / dim;
        float rstd = (float) (1.0 / Math.sqrt(var + eps));
        for (int i = 0; i < dim; i += V) {
            VectorMask<Float> m = S.indexInRange(i, dim);
            FloatVector g = FloatVector.fromArray(S, gamma, i, m).mul(rstd);
            FloatVector v = FloatVector.fromArray(S, x, off + i, m).sub(mean);
            v.fma(g, FloatVector.fromArray(S, beta, i, m)).intoArray(x, off + i, m);
        }
    }
}
