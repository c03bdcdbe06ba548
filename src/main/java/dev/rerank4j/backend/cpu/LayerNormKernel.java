package dev.rerank4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused residual add + LayerNorm, in place. The statistics take passes of their own (the mean, a
 * correction of its rounding, then the biased variance around it) rather than E[x²] - E[x]², which
 * loses digits when |mean| ≫ std, as it can after a residual add.
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

    /**
     * One row. Each pass is its own small method: a single method with all three masked loops is too
     * big for C1's tier-3 compile, and a kernel stuck below C2 runs the Vector API's Java fallback, 100× slower.
     */
    static void row(float[] x, float[] residual, int off, int dim, float[] gamma, float[] beta, float eps) {
        if (residual != null) addInPlace(x, residual, off, dim);
        float mean = sum(x, off, dim) / dim;
        mean += sumOfDeviations(x, off, dim, mean) / dim; // corrects the rounding of a large float sum
        float var = sumOfSquaredDeviations(x, off, dim, mean) / dim;
        float rstd = (float) (1.0 / Math.sqrt(var + eps));
        normalise(x, off, dim, mean, rstd, gamma, beta);
    }

    private static void addInPlace(float[] x, float[] residual, int off, int dim) {
        int bound = S.loopBound(dim), i = 0;
        for (; i < bound; i += V) {
            FloatVector.fromArray(S, x, off + i).add(FloatVector.fromArray(S, residual, off + i)).intoArray(x, off + i);
        }
        for (; i < dim; i++) x[off + i] += residual[off + i];
    }

    private static float sum(float[] x, int off, int dim) {
        int bound = S.loopBound(dim), i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (; i < bound; i += V) acc = acc.add(FloatVector.fromArray(S, x, off + i));
        float total = acc.reduceLanes(VectorOperators.ADD);
        for (; i < dim; i++) total += x[off + i];
        return total;
    }

    private static float sumOfDeviations(float[] x, int off, int dim, float mean) {
        int bound = S.loopBound(dim), i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (; i < bound; i += V) acc = acc.add(FloatVector.fromArray(S, x, off + i).sub(mean));
        float total = acc.reduceLanes(VectorOperators.ADD);
        for (; i < dim; i++) total += x[off + i] - mean;
        return total;
    }

    private static float sumOfSquaredDeviations(float[] x, int off, int dim, float mean) {
        int bound = S.loopBound(dim), i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (; i < bound; i += V) {
            FloatVector d = FloatVector.fromArray(S, x, off + i).sub(mean);
            acc = d.fma(d, acc);
        }
        float total = acc.reduceLanes(VectorOperators.ADD);
        for (; i < dim; i++) {
            float d = x[off + i] - mean;
            total = Math.fma(d, d, total);
        }
        return total;
    }

    private static void normalise(float[] x, int off, int dim, float mean, float rstd, float[] gamma, float[] beta) {
        int bound = S.loopBound(dim), i = 0;
        for (; i < bound; i += V) {
            FloatVector g = FloatVector.fromArray(S, gamma, i).mul(rstd);
            FloatVector.fromArray(S, x, off + i).sub(mean).fma(g, FloatVector.fromArray(S, beta, i)).intoArray(x, off + i);
        }
        for (; i < dim; i++) x[off + i] = Math.fma(x[off + i] - mean, gamma[i] * rstd, beta[i]); // as the vector lanes round
    }
}
