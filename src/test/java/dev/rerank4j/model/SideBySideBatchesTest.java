package dev.rerank4j.model;

import dev.rerank4j.Golden;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.tokenize.Encoding;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batches run side by side, one per core, give each document exactly what it gets when the batches run one
 * after another on one core: the same values (the kernels' sums do not depend on the batch or the thread), in
 * the caller's order.
 */
class SideBySideBatchesTest {
    private static final int BATCH_SIZE = 8;
    /** Calls on two cores, so that the lanes' batches overlap in many ways: a buffer two lanes shared would show. */
    private static final int CALLS = 200;

    private interface Loader {
        Model load(Path dir, ModelConfig config, SafeTensors weights, Backend backend);
    }

    @Test
    void crossEncoderLogits() throws IOException {
        BiFunction<Model, List<Encoding>, float[][]> logits = (model, docs) -> new float[][] {((CrossEncoder) model).logits(docs, BATCH_SIZE)};
        assertSameOnOneAndTwoCores("bert-tiny-ce", Model::load, logits);
        assertSameOnOneAndTwoCores("xlmr-tiny-ce", Model::load, logits);
    }

    @Test
    void sentenceEmbeddings() throws IOException {
        assertSameOnOneAndTwoCores("bert-tiny-ce", (dir, config, weights, backend) -> SentenceEncoder.load(new Weights(weights, ""), config, backend,
                        new SentenceTransformerPipeline.Settings(SentenceTransformerPipeline.Pooling.MEAN, true, false, "", "")),
                (model, docs) -> ((SentenceEncoder) model).embed(docs, BATCH_SIZE));
    }

    @Test
    void colbertTokenVectors() throws IOException {
        assertSameOnOneAndTwoCores("colbert-tiny", Model::load, (model, docs) -> ((ColbertEncoder) model).embed(docs, null, BATCH_SIZE));
    }

    @Test
    void aBatchThatFailsFailsTheCallAndTheNextCallStillScoresEveryDocument() throws IOException {
        Path dir = Golden.path("bert-tiny-ce");
        try (SafeTensors weights = SafeTensors.open(dir.resolve("model.safetensors")); CpuBackend backend = new CpuBackend(2)) {
            ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
            CrossEncoder model = (CrossEncoder) Model.load(dir, config, weights, backend);
            List<Encoding> docs = documents(config);
            float[] before = model.logits(docs, BATCH_SIZE);
            List<Encoding> broken = new ArrayList<>(docs);
            int[] ids = docs.get(17).ids().clone();
            ids[1] = config.vocabSize(); // outside the embedding table
            broken.set(17, new Encoding(ids, new int[ids.length], false));
            assertRunsSideBySide(model.encoder(), broken);
            var e = assertThrows(dev.rerank4j.ModelFormatException.class, () -> model.logits(broken, BATCH_SIZE));
            assertTrue(e.getMessage().contains("token id " + config.vocabSize()), e.getMessage());
            assertArrayEquals(before, model.logits(docs, BATCH_SIZE));
        }
    }

    /**
     * An interrupt of the calling thread stops the batches of every lane, not only the caller's own: a helper's first
     * batch interrupts the caller, and no batch that starts after that may finish. A lane that looked at its own
     * thread's interrupt (the helper's) would run its remaining batches.
     */
    @Test
    void anInterruptOfTheCallerStopsTheBatchesOfEveryLane() throws IOException {
        Path dir = Golden.path("bert-tiny-ce");
        try (SafeTensors weights = SafeTensors.open(dir.resolve("model.safetensors")); CpuBackend backend = new CpuBackend(2)) {
            ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
            Encoder encoder = ((CrossEncoder) Model.load(dir, config, weights, backend)).encoder();
            List<Encoding> docs = new ArrayList<>();
            for (int copy = 0; copy < 5; copy++) docs.addAll(documents(config));
            assertRunsSideBySide(encoder, docs);
            Thread caller = Thread.currentThread();
            java.util.concurrent.atomic.AtomicBoolean interrupted = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicInteger finishedAfter = new java.util.concurrent.atomic.AtomicInteger();
            try {
                assertThrows(java.util.concurrent.CancellationException.class, () -> encoder.forEachBatch(docs, BATCH_SIZE, scratch -> null,
                        (slice, scratch, lane) -> {
                            // the helper's first batch interrupts the caller, so both lanes are running by then
                            if (Thread.currentThread() != caller && interrupted.compareAndSet(false, true)) caller.interrupt();
                            boolean startedAfter = interrupted.get();
                            encoder.forward(slice.batch(), scratch);
                            if (startedAfter) finishedAfter.incrementAndGet();
                        }));
                assertTrue(caller.isInterrupted(), "the interrupt status stays set");
            } finally {
                Thread.interrupted();
            }
            assertTrue(interrupted.get(), "a helper took a batch");
            assertEquals(0, finishedAfter.get(), "batches that started after the interrupt and finished");
        }
    }

    private static void assertSameOnOneAndTwoCores(String golden, Loader loader, BiFunction<Model, List<Encoding>, float[][]> run)
            throws IOException {
        Path dir = Golden.path(golden);
        try (SafeTensors weights = SafeTensors.open(dir.resolve("model.safetensors"))) {
            ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
            List<Encoding> docs = documents(config);
            float[][] one;
            try (CpuBackend backend = new CpuBackend(1)) {
                one = run.apply(loader.load(dir, config, weights, backend), docs);
            }
            try (CpuBackend backend = new CpuBackend(2)) {
                Model model = loader.load(dir, config, weights, backend);
                assertRunsSideBySide(model.encoder(), docs);
                for (int call = 0; call < CALLS; call++) {
                    float[][] two = run.apply(model, docs);
                    for (int i = 0; i < one.length; i++) assertArrayEquals(one[i], two[i], golden + ", call " + call + ", document " + i);
                }
            }
        }
    }

    private static void assertRunsSideBySide(Encoder encoder, List<Encoding> docs) {
        ModelConfig c = encoder.config();
        assertTrue(Batcher.sideBySide(docs, BATCH_SIZE, 2, 2 * c.hiddenSize() + c.intermediateSize()).isPresent(),
                "these documents should run side by side on two cores");
    }

    /** 41 documents of 3 to 60 tokens, ids of real tokens (above the special ones), token type 0. */
    private static List<Encoding> documents(ModelConfig config) {
        Random random = new Random(11);
        List<Encoding> docs = new ArrayList<>();
        for (int i = 0; i < 41; i++) {
            int[] ids = random.ints(3 + random.nextInt(58), 5, config.vocabSize()).toArray();
            docs.add(new Encoding(ids, new int[ids.length], false));
        }
        return docs;
    }
}
