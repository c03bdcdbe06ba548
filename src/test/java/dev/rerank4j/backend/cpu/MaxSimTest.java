package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.DocumentLayout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

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
        // the five-rows-per-pass path that machines with 16 vector registers take
        float[] halves = new float[lengths.length];
        int[] all = java.util.stream.IntStream.range(0, lengths.length).toArray();
        MaxSimKernel.maxSim(q, qn, laidOut, off, all, dim, halves, pf, 4);
        for (int k = 0; k < want.length; k++) {
            final int doc = k;
            assertEquals(want[k], got[k], SCORE_ABS, () -> "qn=" + qn + " dim=" + dim + " document " + doc + " of length " + lengths[doc]);
            assertEquals(want[k], halves[k], SCORE_ABS, () -> "five rows per pass, qn=" + qn + " dim=" + dim + " document " + doc);
        }
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
