package dev.rerank4j;

import dev.rerank4j.convert.OnnxConverter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Steady calls reuse their work arrays: the encoder's activations and the kernels' packing buffers are taken
 * from pools, so what a warm call allocates is its texts' tokens and its results, not per layer and per batch.
 */
class HeapPerCallTest {
    private static final int HIDDEN = 384, INTERMEDIATE = 1536; // all-MiniLM-L6-v2

    @TempDir
    static Path work;
    static Path modelDir;

    @BeforeAll
    static void convertTheShippedModel() throws java.io.IOException {
        Path onnx = Golden.copyResource("/all-minilm-l6-v2.onnx", work.resolve("model.onnx"));
        Path tokenizer = Golden.copyResource("/all-minilm-l6-v2-tokenizer.json", work.resolve("tokenizer.json"));
        modelDir = work.resolve("all-MiniLM-L6-v2");
        OnnxConverter.convert(onnx, tokenizer, modelDir);
    }

    @AfterAll
    static void done() {
        System.gc(); // let the mapped file go before @TempDir cleanup
    }

    @Test
    void aWarmCallAllocatesAFractionOfOneBatchsActivations() {
        // Each of the 2 batches has 8 docs of about 62 tokens; every layer's activations for it take
        // tokens × (6·hidden + intermediate) floats: about 7.6 MB, which every call allocated before the pools.
        assertAllocatesAFractionOf(4L * 8 * 62 * (6 * HIDDEN + INTERMEDIATE), documents(16, 60), 8);
    }

    /**
     * 16 docs of about 152 tokens and the query run as two batches side by side, 8 docs each (the query with one of
     * them). A self-attention group holds up to 142 tokens, so each doc is a group of its own, and each batch has 8
     * or 9 groups for its one core: its Q, K, V product and attention run a group at a time, in pooled buffers too
     * (checked once with a print in SelfAttentionKernel: 60 grouped calls of each batch, 8 and 9 groups).
     */
    @Test
    void selfAttentionByGroupsAllocatesAFractionToo() {
        assertAllocatesAFractionOf(4L * 9 * 152 * (6 * HIDDEN + INTERMEDIATE), documents(16, 150), 32);
    }

    private static void assertAllocatesAFractionOf(long oneBatch, List<String> docs, int batchSize) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
                "this JVM does not count allocated bytes");
        try (Reranker reranker = Reranker.load(modelDir, Options.defaults().withThreads(2).withBatchSize(batchSize))) {
            long least = Long.MAX_VALUE;
            // Until C2 compiles the kernels, the Vector API's fallback boxes vectors (5.5 GB in a cold JVM's first
            // call of the first test here, 0.18 MB from the third on): take the least of a few calls.
            for (int call = 0; call < 10; call++) {
                long before = threads.getTotalThreadAllocatedBytes();
                reranker.score("how many people live in the city", docs);
                least = Math.min(least, threads.getTotalThreadAllocatedBytes() - before);
            }
            System.out.printf("warm call: %.2f MB allocated; one batch's activations: %.2f MB%n", least / 1e6, oneBatch / 1e6);
            assertTrue(least < oneBatch / 10, "a warm call allocated " + least + " bytes; one batch's activations are " + oneBatch);
        }
    }

    private static List<String> documents(int count, int words) {
        String[] vocabulary = "the city river people house music water light world time year school".split(" ");
        Random random = new Random(7);
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            StringBuilder doc = new StringBuilder();
            for (int w = 0; w < words; w++) doc.append(vocabulary[random.nextInt(vocabulary.length)]).append(' ');
            docs.add(doc.toString());
        }
        return docs;
    }
}
