package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.DocumentLayout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** MaxSimKernel against its scalar twin, on sizes that do not fill vectors, panels or 4-row blocks. */
class MaxSimTest {
    /**
     * Each dot of unit-scale vectors (|x| ≤ 1, dim ≤ 131) carries ~dim float ulps of its ~√dim magnitude;
     * the sum over ≤ 70 query tokens is done in double in both: 1e-4 absolute leaves > 10×.
     */
    private static final double SCORE_ABS = 1e-4;

    private static final CpuBackend backend = new CpuBackend(2);
    private static final ParallelFor pf = new ParallelFor(2);

    @AfterAll
    static void close() {
        backend.close();
        pf.shutdown();
    }

    /** Σ_i max_j q_i·d_j in double: the twin. */
    static double[] scalar(float[] q, int qn, float[] docs, int[] off, int dim) {
        double[] out = new double[off.length - 1];
        for (int k = 0; k < out.length; k++) {
            if (off[k + 1] == off[k]) continue;
            for (int i = 0; i < qn; i++) {
                double best = Double.NEGATIVE_INFINITY;
                for (int t = off[k]; t < off[k + 1]; t++) {
                    double dot = 0;
                    for (int d = 0; d < dim; d++) dot += (double) q[i * dim + d] * docs[t * dim + d];
                    best = Math.max(best, dot);
                }
                out[k] += best;
            }
        }
        return out;
    }

    static void check(int qn, int dim, int[] lengths, long seed) {
        Random rnd = new Random(seed);
        int[] off = new int[lengths.length + 1];
        for (int k = 0; k < lengths.length; k++) off[k + 1] = off[k] + lengths[k];
        float[] q = TestTensors.random(rnd, qn * dim, 1f);
        float[] docs = TestTensors.random(rnd, off[lengths.length] * dim, 1f);
        float[] got = new float[lengths.length];
        float[] laidOut = docs.clone();
        DocumentLayout.interleave(laidOut, off, dim);
        backend.maxSim(q, qn, laidOut, off, dim, got);
        double[] want = scalar(q, qn, docs, off, dim);
        // the four-rows-per-pass path that machines with 16 vector registers take
        float[] halves = new float[lengths.length];
        int[] all = java.util.stream.IntStream.range(0, lengths.length).toArray();
        MaxSimKernel.maxSim(q, qn, MemorySegment.ofArray(laidOut), false, longs(off), all, dim, halves, pf, 4);
        for (int k = 0; k < want.length; k++) {
            final int doc = k;
            assertEquals(want[k], got[k], SCORE_ABS, () -> "qn=" + qn + " dim=" + dim + " document " + doc + " of length " + lengths[doc]);
            assertEquals(want[k], halves[k], SCORE_ABS, () -> "four rows per pass, qn=" + qn + " dim=" + dim + " document " + doc);
        }
    }

    static long[] longs(int[] a) {
        long[] l = new long[a.length];
        for (int i = 0; i < a.length; i++) l[i] = a[i];
        return l;
    }

    /**
     * The kernel reading documents where they lie, as a mapped file holds them: little-endian F32 or F16 values in
     * native memory, from an odd byte (unaligned), the documents' rows starting past row 0, candidates in any order.
     * Against the scalar twin over the same (widened) values, and bit for bit against the kernel over a float[] of them.
     */
    static void checkSegment(int qn, int dim, int[] lengths, boolean half, int rowsPerPass, long seed) {
        Random rnd = new Random(seed);
        int lead = 3; // rows before the first document
        int[] off = new int[lengths.length + 1];
        off[0] = lead;
        for (int k = 0; k < lengths.length; k++) off[k + 1] = off[k] + lengths[k];
        float[] q = TestTensors.random(rnd, qn * dim, 1f);
        float[] rows = TestTensors.random(rnd, off[lengths.length] * dim, 1f);
        if (half) for (int i = 0; i < rows.length; i++) rows[i] = Float.float16ToFloat(Float.floatToFloat16(rows[i]));
        double[] want = scalar(q, qn, rows, off, dim);
        float[] laid = rows.clone();
        DocumentLayout.interleave(laid, off, dim);
        int bytes = half ? 2 : 4;
        MemorySegment segment = Arena.ofAuto().allocate((long) bytes * laid.length + 1, 8).asSlice(1);
        for (int i = 0; i < laid.length; i++) {
            if (half) segment.set(DocumentLayout.F16, 2L * i, Float.floatToFloat16(laid[i]));
            else segment.set(DocumentLayout.F32, 4L * i, laid[i]);
        }
        int[] candidates = new int[lengths.length];
        for (int i = 0; i < candidates.length; i++) candidates[i] = candidates.length - 1 - i;
        float[] got = new float[candidates.length], array = new float[candidates.length];
        MaxSimKernel.maxSim(q, qn, segment, half, longs(off), candidates, dim, got, pf, rowsPerPass);
        MaxSimKernel.maxSim(q, qn, MemorySegment.ofArray(laid), false, longs(off), candidates, dim, array, pf, rowsPerPass);
        for (int i = 0; i < candidates.length; i++) {
            int doc = candidates[i];
            String what = (half ? "F16" : "F32") + ", " + rowsPerPass + " rows per pass, qn=" + qn + " dim=" + dim + " document " + doc
                    + " of length " + lengths[doc];
            assertEquals(want[doc], got[i], SCORE_ABS, what);
            assertEquals(Float.floatToRawIntBits(array[i]), Float.floatToRawIntBits(got[i]), what + ": as over a float[] of the same values");
        }
    }

    @Test
    void readsF32AndF16DocumentsWhereTheyLieOnOddSizes() {
        int[] lengths = {1, 7, 8, 9, 15, 17, 0, 16, 24, 33};
        long seed = 100;
        for (int dim : new int[] {1, 15, 16, 17, 128}) {
            for (boolean half : new boolean[] {false, true}) {
                for (int rowsPerPass : new int[] {8, 4}) {
                    checkSegment(32, dim, lengths, half, rowsPerPass, seed++);
                    checkSegment(5, dim, lengths, half, rowsPerPass, seed++);
                }
            }
        }
    }

    @Test
    void theBackendReadsASegmentAndRefusesRowsOutsideIt() {
        Random rnd = new Random(21);
        int dim = 16, qn = 3;
        long[] off = {0, 9, 20};
        float[] q = TestTensors.random(rnd, qn * dim, 1f), rows = TestTensors.random(rnd, 20 * dim, 1f);
        double[] want = scalar(q, qn, rows, new int[] {0, 9, 20}, dim);
        float[] laid = rows.clone();
        DocumentLayout.interleave(laid, new int[] {0, 9, 20}, dim);
        MemorySegment segment = MemorySegment.ofArray(laid);
        float[] got = new float[3];
        backend.maxSim(q, qn, segment, false, off, new int[] {1, 0, 1}, dim, got);
        assertEquals(want[1], got[0], SCORE_ABS);
        assertEquals(want[0], got[1], SCORE_ABS);
        assertEquals(want[1], got[2], SCORE_ABS);
        assertThrows(IllegalArgumentException.class, () -> backend.maxSim(q, qn, segment, false, new long[] {0, 21}, new int[] {0}, dim, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> backend.maxSim(q, qn, segment, false, new long[] {5, 2}, new int[] {0}, dim, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> backend.maxSim(q, qn, segment, false, off, new int[] {2}, dim, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> backend.maxSim(q, qn, segment, false, off, new int[] {0, 1}, dim, new float[1]));
    }


    @Test
    void matchesTheScalarTwinOnOddSizes() {
        check(32, 128, new int[] {180, 1, 15, 17, 3, 4, 5}, 1);
        check(1, 1, new int[] {1, 2, 3}, 2);
        check(15, 17, new int[] {383, 7, 1}, 3);
        check(17, 15, new int[] {4, 8, 9, 13}, 4);
        check(70, 131, new int[] {33, 2}, 5);
    }

    /** Lengths around multiples of eight reach both the eight-row blocks and the row-major rows after them. */
    @Test
    void matchesTheScalarTwinAtTheColbertDims() {
        for (int dim : new int[] {128, 96}) {
            check(32, dim, new int[] {180, 8, 7, 9, 16, 23, 36, 1}, 10 + dim);
            check(70, dim, new int[] {31, 40}, 11 + dim); // three query panels
            check(17, dim, new int[] {19, 8}, 12 + dim);
        }
    }

    @Test
    void splitsManyDocumentsAcrossWorkersInOrder() {
        int[] lengths = new int[MaxSimKernel.DOCS_PER_ITEM * 5 + 3];
        Random rnd = new Random(6);
        for (int k = 0; k < lengths.length; k++) lengths[k] = 1 + rnd.nextInt(40);
        check(32, 16, lengths, 7);
    }

    @Test
    void scoresADocumentWithoutVectorsZero() {
        check(5, 16, new int[] {0, 3, 0}, 8);
        float[] s = {42f};
        backend.maxSim(new float[16], 1, new float[0], new int[] {0, 0}, 16, s);
        assertEquals(0f, s[0]);
    }

    @Test
    void findsTheMaximumWhenEveryDotIsNegative() {
        float[] q = {1, 0, 1, 0};
        float[] d = {-1, -2, -3, -4};
        float[] s = new float[1];
        backend.maxSim(q, 2, d, new int[] {0, 2}, 2, s);
        assertEquals(-2f, s[0]); // each query row's best is -1 (first document row)
    }

    @Test
    void scoresCandidatesInTheirOrderReadingOnlyTheirRows() {
        Random rnd = new Random(13);
        int dim = 128, qn = 32;
        int[] off = {0, 180, 191, 191, 230};
        float[] q = TestTensors.random(rnd, qn * dim, 1f), docs = TestTensors.random(rnd, off[4] * dim, 1f);
        double[] want = scalar(q, qn, docs, off, dim);
        DocumentLayout.interleave(docs, off, dim);
        int[] candidates = {3, 0, 2, 3, 1};
        float[] got = new float[candidates.length];
        backend.maxSim(q, qn, docs, off, candidates, dim, got);
        for (int i = 0; i < candidates.length; i++) assertEquals(want[candidates[i]], got[i], SCORE_ABS, "candidate " + i);
        assertThrows(IllegalArgumentException.class, () -> backend.maxSim(q, qn, docs, off, new int[] {4}, dim, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> backend.maxSim(q, qn, docs, off, new int[] {-1}, dim, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> backend.maxSim(q, qn, docs, off, new int[] {0, 1}, dim, new float[1]));
    }

    @Test
    void rejectsOffsetsBeyondTheVectors() {
        assertThrows(IllegalArgumentException.class, () -> backend.maxSim(new float[4], 1, new float[4], new int[] {0, 3}, 4, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> backend.maxSim(new float[4], 1, new float[8], new int[] {0, 2, 1}, 4, new float[2]));
    }
}
