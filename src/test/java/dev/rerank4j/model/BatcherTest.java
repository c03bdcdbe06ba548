package dev.rerank4j.model;

import dev.rerank4j.tokenize.Encoding;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Batches that run side by side hold every sequence once, split the work evenly, and are refused where they cannot. */
class BatcherTest {
    /** MiniLM-L6: 2 · 384 + 1536. */
    private static final int WIDTH = 2 * 384 + 1536;

    @Test
    void aHundredEqualDocumentsGoToEightBatchesOfTwelveOrThirteen() {
        List<Encoding> docs = encodings(new Random(1), 100, 128, 128);
        List<Batcher.Slice> slices = Batcher.sideBySide(docs, 32, 2, WIDTH).orElseThrow();
        assertEquals(8, slices.size());
        for (Batcher.Slice s : slices) assertTrue(s.origins().length == 12 || s.origins().length == 13, "sequences " + s.origins().length);
        assertEveryDocumentOnceWithItsOwnTokens(docs, slices);
        assertLanesEndTogether(slices, 2);
    }

    @Test
    void raggedDocumentsSplitEvenlyWithinTheLimitsOfABatch() {
        for (int seed = 0; seed < 20; seed++) {
            Random random = new Random(seed);
            List<Encoding> docs = encodings(random, 20 + random.nextInt(300), 20, 256);
            Optional<List<Batcher.Slice>> sideBySide = Batcher.sideBySide(docs, 32, 2, WIDTH);
            assertTrue(sideBySide.isPresent(), "seed " + seed);
            List<Batcher.Slice> slices = sideBySide.get();
            assertEquals(0, slices.size() % 2, "a whole number of batches per lane");
            for (Batcher.Slice s : slices) {
                assertTrue(s.origins().length <= 16, "sequences " + s.origins().length);
                assertTrue(s.batch().tokens() <= Batcher.MAX_TOKENS_PER_BATCH / 2, "tokens " + s.batch().tokens());
            }
            for (int i = 1; i < slices.size(); i++) {
                assertTrue(work(slices.get(i - 1)) >= work(slices.get(i)), "most work first");
            }
            assertEveryDocumentOnceWithItsOwnTokens(docs, slices);
            assertLanesEndTogether(slices, 2);
        }
    }

    /**
     * 300-token sequences fit 13 to a lane's 4,096 tokens, where the token count alone would allow 13.65: the fewest
     * batches that take them (200) lie well past that bound (192), and are found.
     */
    @Test
    void sequencesThatPackUnevenlyGetTheFewestBatchesThatHoldThem() {
        List<Encoding> docs = encodings(new Random(4), 2600, 300, 300);
        List<Batcher.Slice> slices = Batcher.sideBySide(docs, 32, 2, WIDTH).orElseThrow();
        assertEquals(200, slices.size());
        for (Batcher.Slice s : slices) assertEquals(13, s.origins().length);
        assertEveryDocumentOnceWithItsOwnTokens(docs, slices);
    }

    /** Planning many batches looks at the caller's interrupt, and leaves its status set. */
    @Test
    void anInterruptStopsThePlan() {
        List<Encoding> docs = encodings(new Random(5), 20_000, 20, 256);
        Thread.currentThread().interrupt();
        try {
            assertThrows(java.util.concurrent.CancellationException.class, () -> Batcher.sideBySide(docs, 32, 2, WIDTH));
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
        assertTrue(Batcher.sideBySide(docs, 32, 2, WIDTH).isPresent(), "the next plan runs");
    }

    @Test
    void sequencesLongerThanALanesShareOfTokensRunOneToABatch() {
        List<Encoding> docs = encodings(new Random(2), 4, 3000, 3000);
        docs.addAll(encodings(new Random(3), 4, 6000, 6000));
        List<Batcher.Slice> slices = Batcher.sideBySide(docs, 32, 2, WIDTH).orElseThrow();
        for (Batcher.Slice s : slices) {
            assertTrue(s.origins().length == 1 || s.batch().tokens() <= Batcher.MAX_TOKENS_PER_BATCH / 2, "tokens " + s.batch().tokens());
        }
        assertEveryDocumentOnceWithItsOwnTokens(docs, slices);
    }

    @Test
    void workThatDoesNotSplitEvenlyRunsAcrossTheCoresInstead() {
        assertFalse(Batcher.sideBySide(encodings(new Random(1), 3, 100, 100), 32, 2, WIDTH).isPresent(), "three equal sequences");
        assertFalse(Batcher.sideBySide(encodings(new Random(1), 1, 100, 100), 32, 2, WIDTH).isPresent(), "one sequence");
        List<Encoding> oneLong = encodings(new Random(1), 8, 20, 20);
        oneLong.add(encodings(new Random(2), 1, 500, 500).getFirst());
        assertFalse(Batcher.sideBySide(oneLong, 32, 2, WIDTH).isPresent(), "one long sequence and a few short ones");
        assertFalse(Batcher.sideBySide(encodings(new Random(1), 100, 128, 128), 32, 1, WIDTH).isPresent(), "one lane");
        assertTrue(Batcher.sideBySide(encodings(new Random(1), 2, 100, 100), 32, 2, WIDTH).isPresent(), "two equal sequences");
    }

    private static void assertEveryDocumentOnceWithItsOwnTokens(List<Encoding> docs, List<Batcher.Slice> slices) {
        int[] seen = new int[docs.size()];
        for (Batcher.Slice s : slices) {
            for (int b = 0; b < s.origins().length; b++) {
                int origin = s.origins()[b];
                seen[origin]++;
                RaggedBatch batch = s.batch();
                assertArrayEquals(docs.get(origin).ids(), Arrays.copyOfRange(batch.ids(), batch.start(b), batch.start(b) + batch.length(b)),
                        "document " + origin);
            }
        }
        for (int i = 0; i < seen.length; i++) assertEquals(1, seen[i], "document " + i);
    }

    /** Lanes take the next batch as they come free; at equal speed the later one ends within the allowed imbalance. */
    private static void assertLanesEndTogether(List<Batcher.Slice> slices, int lanes) {
        long[] lane = new long[lanes];
        long total = 0;
        for (Batcher.Slice s : slices) {
            int next = 0;
            for (int l = 1; l < lanes; l++) if (lane[l] < lane[next]) next = l;
            lane[next] += work(s);
            total += work(s);
        }
        for (long l : lane) assertTrue(l <= (1 + Batcher.LANE_IMBALANCE) * total / lanes, "lanes " + Arrays.toString(lane));
    }

    private static long work(Batcher.Slice s) {
        long w = 0;
        for (int b = 0; b < s.batch().sequences(); b++) w += (long) s.batch().length(b) * (WIDTH + s.batch().length(b));
        return w;
    }

    private static List<Encoding> encodings(Random random, int count, int minLength, int maxLength) {
        List<Encoding> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] ids = random.ints(minLength + random.nextInt(maxLength - minLength + 1), 0, 1000).toArray();
            out.add(new Encoding(ids, new int[ids.length], false));
        }
        return out;
    }
}
