package dev.rerank4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused residual add + LayerNorm, in place. The variance is taken around the mean, in a pass of its own that
 * also corrects the mean's rounding, rather than as E[x²] - E[x]², which loses digits when |mean| ≫ std, as it
 * can after a residual add.
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
        pf.forEach(items, () -> new float[2], (sums, item) -> {
            int r1 = Math.min(rows, (item + 1) * rowsPerItem);
            for (int r = item * rowsPerItem; r < r1; r++) row(x, residual, r * dim, dim, gamma, beta, eps, sums);
        });
    }

    /** x ← x + delta, then normed ← LayerNorm(x)·γ + β, row by row: a pre-norm layer's residual step. */
    static void addAndNormalize(float[] x, float[] delta, int rows, int dim, float[] gamma, float[] beta, float eps, float[] normed,
                                ParallelFor pf) {
        int rowsPerItem = Math.max(1, ITEM_ELEMENTS / dim);
        int items = (rows + rowsPerItem - 1) / rowsPerItem;
        pf.forEach(items, () -> new float[2], (sums, item) -> {
            int r1 = Math.min(rows, (item + 1) * rowsPerItem);
            for (int r = item * rowsPerItem; r < r1; r++) row(x, delta, r * dim, dim, gamma, beta, eps, sums, normed);
        });
    }

    /**
     * One row, in three passes: residual add with the sum, deviations from that mean with their squares, then the
     * normalisation (five passes until 2026-12-04). The second pass's deviations sum to n·δ, δ the rounding error of
     * the first mean; the variance around the corrected mean m + δ is (Σ(x − m)² − n·δ²)/n, exactly. Each pass is its
     * own small method: a single method with all the loops is too big for C1's tier-3 compile, and a kernel stuck
     * below C2 runs the Vector API's Java fallback, 100× slower. {@code sums} is the worker's, two floats.
     */
    private static void row(float[] x, float[] residual, int off, int dim, float[] gamma, float[] beta, float eps, float[] sums) {
        row(x, residual, off, dim, gamma, beta, eps, sums, x);
    }

    /** {@link #row} with the normalised row written to {@code normed} (x itself, or another array), x keeping the sum. */
    private static void row(float[] x, float[] residual, int off, int dim, float[] gamma, float[] beta, float eps, float[] sums,
                            float[] normed) {
        float mean = (residual == null ? sum(x, off, dim) : addInPlaceAndSum(x, residual, off, dim)) / dim;
        sumsOfDeviations(x, off, dim, mean, sums);
        float delta = sums[0] / dim;
        float var = Math.max(0f, (sums[1] - sums[0] * delta) / dim);
        float rstd = (float) (1.0 / Math.sqrt(var + eps));
        normalise(x, off, dim, mean + delta, rstd, gamma, beta, normed);
    }

    private static float addInPlaceAndSum(float[] x, float[] residual, int off, int dim) {
        int bound = S.loopBound(dim), i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (; i < bound; i += V) {
            FloatVector v = FloatVector.fromArray(S, x, off + i).add(FloatVector.fromArray(S, residual, off + i));
            v.intoArray(x, off + i);
            acc = acc.add(v);
        }
        float total = VectorMath.sum(acc);
        for (; i < dim; i++) total += x[off + i] += residual[off + i];
        return total;
    }

    private static float sum(float[] x, int off, int dim) {
        int bound = S.loopBound(dim), i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (; i < bound; i += V) acc = acc.add(FloatVector.fromArray(S, x, off + i));
        float total = VectorMath.sum(acc);
        for (; i < dim; i++) total += x[off + i];
        return total;
    }

    /** out[0] = Σ(x − mean), out[1] = Σ(x − mean)². */
    private static void sumsOfDeviations(float[] x, int off, int dim, float mean, float[] out) {
        int bound = S.loopBound(dim), i = 0;
        FloatVector acc = FloatVector.zero(S), acc2 = FloatVector.zero(S);
        for (; i < bound; i += V) {
            FloatVector d = FloatVector.fromArray(S, x, off + i).sub(mean);
            acc = acc.add(d);
            acc2 = d.fma(d, acc2);
        }
        float total = VectorMath.sum(acc), squares = VectorMath.sum(acc2);
        for (; i < dim; i++) {
            float d = x[off + i] - mean;
            total += d;
            squares = Math.fma(d, d, squares);
        }
        out[0] = total;
        out[1] = squares;
    }

    private static void normalise(float[] x, int off, int dim, float mean, float rstd, float[] gamma, float[] beta, float[] out) {
        int bound = S.loopBound(dim), i = 0;
        for (; i < bound; i += V) {
            FloatVector g = FloatVector.fromArray(S, gamma, i).mul(rstd);
            FloatVector.fromArray(S, x, off + i).sub(mean).fma(g, FloatVector.fromArray(S, beta, i)).intoArray(out, off + i);
        }
        for (; i < dim; i++) out[off + i] = Math.fma(x[off + i] - mean, gamma[i] * rstd, beta[i]); // as the vector lanes round
    }
}
