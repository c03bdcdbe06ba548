package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code selfAttention}, which runs the Q, K, V product and attention a group of sequences at a time, against the
 * product over the whole batch followed by attention ({@link LinearTest} and {@link AttentionTest} check those
 * against their scalar twins): the same arithmetic on every row, so the same bits.
 */
class SelfAttentionTest {
    private static final CpuBackend backend = new CpuBackend(2);

    @AfterAll
    static void close() {
        backend.close();
    }

    private static LinearWeights qkvWeights(int hidden, long seed) {
        Random rnd = new Random(seed);
        return backend.prepareLinear(
                TestTensors.of("qkv.weight", DType.F32, TestTensors.random(rnd, 3 * hidden * hidden, 0.2f), 3 * hidden, hidden),
                TestTensors.of("qkv.bias", DType.F32, TestTensors.random(rnd, 3 * hidden, 0.2f), 3 * hidden));
    }

    private static int[] starts(int[] lengths) {
        int[] starts = new int[lengths.length + 1];
        for (int b = 0; b < lengths.length; b++) starts[b + 1] = starts[b] + lengths[b];
        return starts;
    }

    /** selfAttention's output, and the product then attention's, for the same input (keyLengths may be null). */
    private static void assertSameAsProductThenAttention(int[] lengths, int[] keyLengths, int heads, int headDim, long seed) {
        int hidden = heads * headDim;
        int[] starts = starts(lengths);
        int tokens = starts[lengths.length];
        LinearWeights w = qkvWeights(hidden, seed);
        float[] x = TestTensors.random(new Random(seed + 1), tokens * hidden, 1f);
        float[] qkv = new float[tokens * 3 * hidden], expected = new float[tokens * hidden];
        backend.linear(x, tokens, w, qkv, Activation.NONE);
        backend.attention(qkv, starts, keyLengths, heads, headDim, expected);
        float[] actual = new float[tokens * hidden];
        backend.selfAttention(x, starts, keyLengths, w, new float[tokens * 3 * hidden], heads, headDim, actual);
        assertArrayEquals(expected, actual, "lengths " + Arrays.toString(lengths));
    }

    private static int[] randomLengths(Random rnd, int n, int min, int max) {
        int[] lengths = new int[n];
        for (int b = 0; b < n; b++) lengths[b] = min + rnd.nextInt(max - min + 1);
        return lengths;
    }

    /** Groups selfAttention makes of these lengths at a hidden size (16 or more: the grouped path on two workers). */
    private static int groups(int[] lengths, int hidden) {
        return SelfAttentionKernel.groups(starts(lengths), SelfAttentionKernel.groupRows(3 * hidden)).length - 1;
    }

    @Test
    void manyGroupsGiveTheBitsOfTheProductThenAttention() {
        // MiniLM's shape: groups of up to 142 tokens
        int[] lengths = randomLengths(new Random(1), 40, 20, 256);
        assertTrue(groups(lengths, 384) >= 16);
        assertSameAsProductThenAttention(lengths, null, 12, 32, 2);
    }

    @Test
    void keyLengthsAndEmptySequencesAreKept() {
        Random rnd = new Random(3);
        int[] lengths = randomLengths(rnd, 40, 1, 140);
        lengths[4] = 0;
        lengths[17] = 0;
        int[] keys = new int[lengths.length];
        for (int b = 0; b < keys.length; b++) keys[b] = lengths[b] == 0 ? 0 : 1 + rnd.nextInt(lengths[b]);
        assertTrue(groups(lengths, 384) >= 16);
        assertSameAsProductThenAttention(lengths, keys, 12, 32, 4);
        assertSameAsProductThenAttention(lengths, null, 12, 32, 5);
    }

    @Test
    void sequencesPastTheBufferWorkInTheirOwnRows() {
        // hidden 64: a group holds up to 853 tokens, and a sequence whose Q, K, V pass 4 MB (5,462 tokens) skips the buffer
        int[] lengths = new int[20];
        Arrays.fill(lengths, 700);
        lengths[3] = 5_500;
        lengths[4] = 5_600; // side by side with the one before, each in its own rows
        lengths[11] = 900; // past a group, within the buffer
        assertTrue(groups(lengths, 64) >= 16);
        assertSameAsProductThenAttention(lengths, null, 2, 32, 6);
    }

    /**
     * Calls from several threads at once: one holds the helpers and splits its groups between them, the others run
     * theirs on their own threads (one worker available), each group in a buffer of its own.
     */
    @Test
    void concurrentCallsGiveTheBitsOfOneCallAtATime() throws Exception {
        int heads = 12, headDim = 32, hidden = heads * headDim;
        int[] lengths = randomLengths(new Random(12), 24, 72, 140); // one group each
        assertTrue(groups(lengths, hidden) >= 16);
        int[] starts = starts(lengths);
        int tokens = starts[lengths.length];
        LinearWeights w = qkvWeights(hidden, 13);
        float[] x = TestTensors.random(new Random(14), tokens * hidden, 1f);
        float[] expected = new float[tokens * hidden];
        backend.selfAttention(x, starts, null, w, new float[tokens * 3 * hidden], heads, headDim, expected);
        try (ExecutorService threads = Executors.newFixedThreadPool(4)) {
            List<Future<float[]>> calls = new ArrayList<>();
            for (int call = 0; call < 24; call++) {
                calls.add(threads.submit(() -> {
                    float[] out = new float[tokens * hidden];
                    backend.selfAttention(x, starts, null, w, new float[tokens * 3 * hidden], heads, headDim, out);
                    return out;
                }));
            }
            for (int call = 0; call < calls.size(); call++) assertArrayEquals(expected, calls.get(call).get(), "call " + call);
        }
    }

    @Test
    void fewGroupsRunTheProductAndAttentionOnAllWorkers() {
        assertSameAsProductThenAttention(new int[] {128}, null, 12, 32, 7);
        int[] three = {300, 5, 77};
        assertTrue(groups(three, 384) < 16);
        assertSameAsProductThenAttention(three, null, 12, 32, 8);
        assertSameAsProductThenAttention(new int[0], null, 12, 32, 9);
    }

    @Test
    void insideAWorkItemOneWorkerIsAvailable() throws Exception {
        ParallelFor pf = new ParallelFor(2);
        try {
            assertEquals(2, pf.available());
            AtomicInteger inside = new AtomicInteger();
            pf.forEach(4, (s, i) -> inside.accumulateAndGet(pf.available(), Math::max));
            assertEquals(1, inside.get());
            assertEquals(2, pf.available());
        } finally {
            pf.shutdown();
        }
    }

    @Test
    void groupsAreRunsOfConsecutiveSequencesWithinTheirTokens() {
        // lengths 50, 50, 50, 200, 10, 0, 10, 100
        int[] starts = {0, 50, 100, 150, 350, 360, 360, 370, 470};
        assertArrayEquals(new int[] {0, 2, 3, 4, 7, 8}, SelfAttentionKernel.groups(starts, 100));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8}, SelfAttentionKernel.groups(starts, 1));
        assertArrayEquals(new int[] {0}, SelfAttentionKernel.groups(new int[] {0}, 100));
        assertEquals(142, SelfAttentionKernel.groupRows(3 * 384));
        assertEquals(71, SelfAttentionKernel.groupRows(3 * 768));
    }

    @Test
    void refusesWeightsOfAnotherWidth() {
        LinearWeights w = qkvWeights(64, 10);
        int[] starts = {0, 4};
        assertThrows(IllegalArgumentException.class,
                () -> backend.selfAttention(new float[4 * 64], starts, null, w, new float[4 * 192], 4, 8, new float[4 * 32]));
    }
}
