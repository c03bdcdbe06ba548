package dev.rerank4j.backend;

/**
 * The order in which documents' token vectors reach {@link Backend#maxSim}: each document keeps its place
 * and its size (so offsets still count rows), but inside it every full block of {@link #ROWS} rows is stored
 * dim-major, element d of the block's rows side by side ({@code [dim][ROWS]}); the rows after the last full
 * block stay row-major.
 *
 * <p>Why: MaxSim reads a block's rows at the same d together. Row-major, that is {@code ROWS} streams
 * {@code 4·dim} bytes apart, which the hardware prefetchers follow poorly: on the 2-core development machine
 * reading 92 MB ten rows at a time ran at 8.1–10.6 GB/s against 17.7–19.2 GB/s for one sequential stream
 * ({@code MaxSimProbe}), and MaxSim over 1,000 × 180 × 128 vectors was bound by it. Side by side, a block is
 * one sequential stream, and every broadcast of a block is one index plus a constant whatever the dim.
 */
public final class DocumentLayout {
    /**
     * Rows per block: eight rows × two query vectors of accumulators fit AVX-512's 32 registers with their
     * operands, and half a block fits AVX2's 16.
     */
    public static final int ROWS = 8;

    private DocumentLayout() {}

    /** Reorders row-major {@code vectors} (documents' rows {@code offsets[k]} to {@code offsets[k+1]}) into this layout, in place. */
    public static void interleave(float[] vectors, int[] offsets, int dim) {
        float[] block = null; // made at the first full block: a dim read from a file is then backed by that many floats
        for (int k = 0; k + 1 < offsets.length; k++) {
            for (int t = offsets[k]; t + ROWS <= offsets[k + 1]; t += ROWS) {
                if (block == null) block = new float[ROWS * dim];
                int at = t * dim;
                System.arraycopy(vectors, at, block, 0, ROWS * dim);
                for (int j = 0; j < ROWS; j++) {
                    for (int d = 0; d < dim; d++) vectors[at + d * ROWS + j] = block[j * dim + d];
                }
            }
        }
    }

    /** The {@code tokens} rows of the document that starts at row {@code start} of {@code vectors} (this layout), row-major. */
    public static float[] rows(float[] vectors, int start, int tokens, int dim) {
        float[] rows = new float[tokens * dim];
        int full = tokens / ROWS * ROWS;
        for (int b = 0; b < full; b += ROWS) {
            int at = (start + b) * dim;
            for (int j = 0; j < ROWS; j++) {
                for (int d = 0; d < dim; d++) rows[(b + j) * dim + d] = vectors[at + d * ROWS + j];
            }
        }
        System.arraycopy(vectors, (start + full) * dim, rows, full * dim, (tokens - full) * dim);
        return rows;
    }
}
