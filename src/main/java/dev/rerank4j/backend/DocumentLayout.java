package dev.rerank4j.backend;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

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
 *
 * <p>Precisely: for a document whose rows start at row {@code s}, block {@code b} (rows {@code s + 8b} to
 * {@code s + 8b + 7}, for each {@code b < tokens / 8}) holds element {@code d} of its row {@code j} at position
 * {@code (s + 8b) · dim + 8·d + j}; every other row {@code t} (the last {@code tokens % 8}) holds element {@code d} at
 * {@code (s + t) · dim + d}, as row-major. The same order is kept in memory by {@code Reranker.encodeDocuments} and on
 * disk by {@code DocumentEmbeddings} files of version 2, and MaxSim reads it there ({@link Backend#maxSim(float[], int,
 * MemorySegment, boolean, long[], int[], int, float[])}); {@link #scan} and {@link #rows} give rows back row-major.
 */
public final class DocumentLayout {
    /**
     * Rows per block: eight rows × two query vectors of accumulators fit AVX-512's 32 registers with their
     * operands, and half a block fits AVX2's 16.
     */
    public static final int ROWS = 8;
    /** How {@link #gather} reads stored vectors: little-endian, as safetensors files hold them, at any alignment. */
    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private DocumentLayout() {}

    /** Sees each stored row once, row-major, before {@link #gather} lays it out (to check it). */
    public interface RowsSeen {
        /** {@code count} rows, the first being row {@code token} of the document, at {@code rows[at …]}. */
        void rows(float[] rows, int at, int count, int token);
    }

    /** Reorders row-major {@code vectors} (documents' rows {@code offsets[k]} to {@code offsets[k+1]}) into this layout, in place. */
    public static void interleave(float[] vectors, int[] offsets, int dim) {
        float[] block = null; // made at the first full block: a dim read from a file is then backed by that many floats
        for (int k = 0; k + 1 < offsets.length; k++) {
            for (int t = offsets[k]; t + ROWS <= offsets[k + 1]; t += ROWS) {
                if (block == null) block = new float[ROWS * dim];
                int at = t * dim;
                System.arraycopy(vectors, at, block, 0, ROWS * dim);
                lay(block, vectors, at, dim);
            }
        }
    }

    /**
     * Copies one document's {@code tokens} rows, stored row-major in {@code vectors} from value {@code from}
     * (little-endian F32, or F16 when {@code half}, widened exactly), into {@code to} from {@code at} in this layout.
     * Each block of {@link #ROWS} rows is read into {@code block} (at least {@code ROWS · dim} floats, and
     * {@code halves} as many shorts for F16), shown to {@code seen} if not null, and laid out from there, so the rows
     * cross memory once. Returns the floats written, {@code tokens · dim}.
     */
    public static int gather(MemorySegment vectors, boolean half, long from, int tokens, int dim, float[] to, int at,
                             float[] block, short[] halves, RowsSeen seen) {
        int t = 0;
        for (; t + ROWS <= tokens; t += ROWS) {
            read(vectors, half, from + (long) t * dim, ROWS * dim, block, 0, halves);
            if (seen != null) seen.rows(block, 0, ROWS, t);
            lay(block, to, at + t * dim, dim);
        }
        if (t < tokens) {
            read(vectors, half, from + (long) t * dim, (tokens - t) * dim, to, at + t * dim, halves);
            if (seen != null) seen.rows(to, at + t * dim, tokens - t, t);
        }
        return tokens * dim;
    }

    /**
     * Shows {@code seen} the {@code tokens} rows of one document stored in this layout in {@code vectors} from value
     * {@code from} (little-endian F32, or F16 when {@code half}, widened exactly), row-major, a block at a time: each
     * full block is read into {@code block} and put back in row order into {@code rows} (both at least
     * {@code ROWS · dim} floats; {@code halves} as many shorts for F16), the rows after it read into {@code rows} as
     * they are. The inverse of {@link #gather}.
     */
    public static void scan(MemorySegment vectors, boolean half, long from, int tokens, int dim, float[] block, float[] rows,
                            short[] halves, RowsSeen seen) {
        int t = 0;
        for (; t + ROWS <= tokens; t += ROWS) {
            read(vectors, half, from + (long) t * dim, ROWS * dim, block, 0, halves);
            for (int j = 0; j < ROWS; j++) {
                for (int d = 0; d < dim; d++) rows[j * dim + d] = block[d * ROWS + j];
            }
            seen.rows(rows, 0, ROWS, t);
        }
        if (t < tokens) {
            read(vectors, half, from + (long) t * dim, (tokens - t) * dim, rows, 0, halves);
            seen.rows(rows, 0, tokens - t, t);
        }
    }

    /** One block: the {@link #ROWS} row-major rows in {@code block} written dim-major into {@code to} from {@code at}. */
    private static void lay(float[] block, float[] to, int at, int dim) {
        // d outer: the writes are one sequential stream, the reads (eight rows in L1) are not
        for (int d = 0, o = at; d < dim; d++, o += ROWS) {
            to[o] = block[d];
            to[o + 1] = block[dim + d];
            to[o + 2] = block[2 * dim + d];
            to[o + 3] = block[3 * dim + d];
            to[o + 4] = block[4 * dim + d];
            to[o + 5] = block[5 * dim + d];
            to[o + 6] = block[6 * dim + d];
            to[o + 7] = block[7 * dim + d];
        }
    }

    /**
     * Copies {@code floats} values of row-major {@code vectors}, from value {@code from}, into {@code to} from {@code at}:
     * F32 in one bulk copy, or F16 ({@code half}) bulk-copied into {@code halves} and widened in a loop C2 compiles to
     * vector conversions where the CPU has them (F16C, AVX-512).
     */
    public static void read(MemorySegment vectors, boolean half, long from, int floats, float[] to, int at, short[] halves) {
        if (half) {
            MemorySegment.copy(vectors, F16, 2 * from, halves, 0, floats);
            for (int i = 0; i < floats; i++) to[at + i] = Float.float16ToFloat(halves[i]);
        } else {
            MemorySegment.copy(vectors, F32, 4 * from, to, at, floats);
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
