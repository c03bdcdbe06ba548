package dev.rerank4j.model;

import dev.rerank4j.ChildJvm;
import dev.rerank4j.Golden;
import dev.rerank4j.Reranker;
import dev.rerank4j.Options;
import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.io.SafeTensorsWriter;
import dev.rerank4j.tokenize.Encoding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An 8192-token input through a tiny random XLM-R-shaped cross-encoder with 8194 positions (as
 * bge-reranker-v2-m3 has), in a child JVM whose heap is too small for one 8192 × 8192 float score
 * matrix (256 MB): attention and the encoder's scratch must stay O(L · hidden).
 */
class LongInputTest {
    static final int LENGTH = 8192;
    static final int HIDDEN = 32, LAYERS = 2, HEADS = 4, INNER = 64, VOCAB = 2000, PAD = 1;
    /** Heap of the child JVM: ~10 MB of activations fit; one L × L float matrix (256 MB) does not. */
    static final String CHILD_HEAP = "-Xmx96m";

    /** Writes config.json and model.safetensors of a random XLM-R cross-encoder with 8194 positions into {@code dir}. */
    static void writeModel(Path dir) throws IOException {
        int positions = LENGTH + PAD + 1;
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["XLMRobertaForSequenceClassification"], "model_type": "xlm-roberta",
                 "hidden_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d, "intermediate_size": %d,
                 "vocab_size": %d, "max_position_embeddings": %d, "type_vocab_size": 1, "layer_norm_eps": 1e-5,
                 "hidden_act": "gelu", "pad_token_id": %d, "bos_token_id": 0, "eos_token_id": 2, "num_labels": 1}
                """.formatted(HIDDEN, LAYERS, HEADS, INNER, VOCAB, positions, PAD));
        Random rnd = new Random(8192);
        SafeTensorsWriter w = new SafeTensorsWriter();
        String e = "roberta.embeddings.";
        w.add(e + "word_embeddings.weight", new long[] {VOCAB, HIDDEN}, random(rnd, VOCAB * HIDDEN, 0.2f, 0f));
        w.add(e + "position_embeddings.weight", new long[] {positions, HIDDEN}, random(rnd, positions * HIDDEN, 0.2f, 0f));
        w.add(e + "token_type_embeddings.weight", new long[] {1, HIDDEN}, random(rnd, HIDDEN, 0.2f, 0f));
        norm(w, rnd, e + "LayerNorm", HIDDEN);
        for (int i = 0; i < LAYERS; i++) {
            String l = "roberta.encoder.layer." + i + ".";
            for (String m : new String[] {"query", "key", "value"}) linear(w, rnd, l + "attention.self." + m, HIDDEN, HIDDEN);
            linear(w, rnd, l + "attention.output.dense", HIDDEN, HIDDEN);
            norm(w, rnd, l + "attention.output.LayerNorm", HIDDEN);
            linear(w, rnd, l + "intermediate.dense", INNER, HIDDEN);
            linear(w, rnd, l + "output.dense", HIDDEN, INNER);
            norm(w, rnd, l + "output.LayerNorm", HIDDEN);
        }
        linear(w, rnd, "classifier.dense", HIDDEN, HIDDEN);
        linear(w, rnd, "classifier.out_proj", 1, HIDDEN);
        w.write(dir.resolve("model.safetensors"));
    }

    private static float[] random(Random rnd, int n, float std, float mean) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = mean + std * (float) rnd.nextGaussian();
        return a;
    }

    private static void linear(SafeTensorsWriter w, Random rnd, String name, int out, int in) {
        w.add(name + ".weight", new long[] {out, in}, random(rnd, out * in, 0.2f, 0f));
        w.add(name + ".bias", new long[] {out}, random(rnd, out, 0.2f, 0f));
    }

    private static void norm(SafeTensorsWriter w, Random rnd, String name, int n) {
        w.add(name + ".weight", new long[] {n}, random(rnd, n, 0.3f, 1f));
        w.add(name + ".bias", new long[] {n}, random(rnd, n, 0.2f, 0f));
    }

    /** One pair encoding {@code <s> q </s></s> d </s>} of exactly {@link #LENGTH} tokens. */
    static Encoding longPair() {
        Random rnd = new Random(1);
        int[] ids = new int[LENGTH];
        for (int t = 0; t < LENGTH; t++) ids[t] = 3 + rnd.nextInt(VOCAB - 3);
        ids[0] = 0;
        ids[20] = 2;
        ids[21] = 2;
        ids[LENGTH - 1] = 2;
        return new Encoding(ids, new int[LENGTH], false);
    }

    /**
     * Child JVM: loads the model in args[0] (writing it first if the directory has none, for runs by hand),
     * scores one 8192-token pair, prints the logit and the peak heap.
     */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        if (!Files.exists(dir.resolve("config.json"))) writeModel(Files.createDirectories(dir));
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        long started = System.nanoTime();
        try (SafeTensors weights = SafeTensors.open(dir.resolve("model.safetensors")); CpuBackend backend = new CpuBackend(2)) {
            CrossEncoder model = (CrossEncoder) Model.load(dir, config, weights, backend);
            float[] logits = model.logits(List.of(longPair()), 1);
            long peak = 0, peakAfterGc = 0; // peak counts garbage not yet collected; after-GC peaks count what was live
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                if (pool.getType() != MemoryType.HEAP) continue;
                peak += pool.getPeakUsage().getUsed();
                if (pool.getCollectionUsage() != null) peakAfterGc += pool.getCollectionUsage().getUsed();
            }
            System.out.printf("logit=%s peakHeapMiB=%.1f heapAfterLastGcMiB=%.1f maxHeapMiB=%.1f seconds=%.1f%n", logits[0],
                    peak / 1048576.0, peakAfterGc / 1048576.0, Runtime.getRuntime().maxMemory() / 1048576.0,
                    (System.nanoTime() - started) / 1e9);
        }
    }

    @Test
    void scoresAn8192TokenPairInASmallHeap(@TempDir Path dir) throws Exception {
        writeModel(dir);
        ChildJvm.Result child = ChildJvm.run(List.of(CHILD_HEAP, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"),
                LongInputTest.class, Duration.ofMinutes(5), dir.toString());
        String text = child.all();
        System.out.print("child JVM: " + text);
        assertEquals(0, child.exitCode(), text);
        Matcher m = Pattern.compile("logit=(\\S+)").matcher(text);
        assertTrue(m.find(), text);
        assertTrue(Float.isFinite(Float.parseFloat(m.group(1))), text);
    }

    @Test
    void scratchGrowsLinearlyWithTheInput(@TempDir Path dir) throws IOException {
        writeModel(dir);
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        try (SafeTensors weights = SafeTensors.open(dir.resolve("model.safetensors")); CpuBackend backend = new CpuBackend(1)) {
            Encoder.Scratch s = Model.load(dir, config, weights, backend).encoder().scratch(LENGTH);
            long floats = (long) s.hidden().length + s.qkv().length + s.context().length + s.attended().length + s.ffn().length;
            assertEquals(LENGTH, s.capacity(), "a power of two needs no rounding up");
            assertEquals((long) LENGTH * (6 * HIDDEN + INNER), floats, "hidden, 3·hidden qkv, context, attended, ffn per token");
        }
    }

    @Test
    void maxLengthIsThePositionTableLessTheOffset(@TempDir Path dir) throws IOException {
        writeModel(dir);
        // Any tokenizer whose ids fit the embeddings will do: the max length comes from config.json alone.
        Files.copy(Golden.path("bert-tiny-ce/tokenizer.json"), dir.resolve("tokenizer.json"));
        try (Reranker reranker = Reranker.load(dir, Options.defaults())) {
            assertEquals(LENGTH, reranker.maxLength());
        }
        try (Reranker reranker = Reranker.load(dir, Options.defaults().withMaxLength(LENGTH))) {
            assertEquals(LENGTH, reranker.maxLength());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Reranker.load(dir, Options.defaults().withMaxLength(LENGTH + 1)));
        assertTrue(e.getMessage().contains("8192"), e.getMessage());
    }
}
