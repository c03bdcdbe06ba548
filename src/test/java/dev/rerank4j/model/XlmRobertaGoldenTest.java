package dev.rerank4j.model;

import dev.rerank4j.Golden;
import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.io.SafeTensorsWriter;
import dev.rerank4j.io.Tensor;
import dev.rerank4j.tokenize.Encoding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reproduces transformers' XLMRobertaForSequenceClassification logits on a tiny random model saved in F32
 * and in BF16 (tools/make_golden.py, golden/xlmr-tiny-ce*.json). Runs ids → logits at model level: the
 * input_ids are synthetic XLM-R pair layouts, not a tokenizer's output.
 */
class XlmRobertaGoldenTest {
    /** The parity bar for fp32; differences come from float accumulation order (~1e-6). */
    private static final double F32_TOLERANCE = 1e-4;
    /**
     * BF16 weights, F32 compute on both sides (transformers ran model.float() on the BF16 checkpoint), so
     * only accumulation order differs, as for F32; the bar for BF16 checkpoints is 1e-2.
     */
    private static final double BF16_TOLERANCE = 1e-2;

    private static final CpuBackend BACKEND = new CpuBackend(2);

    @AfterAll
    static void close() {
        BACKEND.close();
    }

    private static List<Encoding> encodings(List<Map<String, Object>> pairs) {
        List<Encoding> out = new ArrayList<>();
        for (Map<String, Object> p : pairs) {
            int[] ids = Golden.ints(p.get("input_ids"));
            out.add(new Encoding(ids, new int[ids.length], Boolean.TRUE.equals(p.get("truncated"))));
        }
        return out;
    }

    private static double worstDelta(String name, double tolerance) {
        Map<String, Object> golden = Golden.json(name + ".json");
        List<Map<String, Object>> pairs = Golden.list(golden, "pairs");
        assertTrue(pairs.size() >= 20, "golden file has at least 20 pairs");
        assertTrue(pairs.stream().anyMatch(p -> Golden.ints(p.get("input_ids")).length == 64), "golden file has a full 64-token input");
        assertTrue(pairs.stream().anyMatch(p -> Boolean.TRUE.equals(p.get("truncated"))), "golden file has a truncated input");
        Path dir = Golden.path(name);
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        double worst = 0;
        try (SafeTensors weights = SafeTensors.open(dir.resolve("model.safetensors"))) {
            CrossEncoder model = assertInstanceOf(CrossEncoder.class, Model.load(dir, config, weights, BACKEND));
            List<Encoding> encodings = encodings(pairs);
            for (int batchSize : new int[] {1, 5, pairs.size()}) {
                float[] logits = model.logits(encodings, batchSize);
                for (int i = 0; i < pairs.size(); i++) {
                    double expected = ((Number) pairs.get(i).get("logit")).doubleValue();
                    worst = Math.max(worst, Math.abs(logits[i] - expected));
                    String id = (String) pairs.get(i).get("id");
                    assertEquals(expected, logits[i], tolerance, () -> name + " logit of " + id + " at batch size " + batchSize);
                }
            }
        }
        System.out.printf("%s: %d pairs, max |Δlogit| = %.2e%n", name, pairs.size(), worst);
        return worst;
    }

    @Test
    void f32LogitsMatchTransformersAtEveryBatchSize() {
        worstDelta("xlmr-tiny-ce", F32_TOLERANCE);
    }

    @Test
    void bf16LogitsMatchTransformersRunningTheSameWeightsInF32() {
        worstDelta("xlmr-tiny-ce-bf16", BF16_TOLERANCE);
    }

    @Test
    void positionsStartAfterThePaddingIndexSoTheMaxInputIsTwoShorter() {
        ModelConfig config = ModelConfig.read(Golden.path("xlmr-tiny-ce/config.json"));
        assertEquals(2, config.positionOffset());
        assertEquals(64, config.maxInputLength());
        assertEquals(1e-5f, config.layerNormEps());
        assertEquals(1, config.typeVocabSize());
        ModelConfig bert = ModelConfig.read(Golden.path("bert-tiny-ce/config.json"));
        assertEquals(0, bert.positionOffset());
        assertEquals(bert.maxPositionEmbeddings(), bert.maxInputLength());
    }

    @Test
    void rejectsAnInputLongerThanThePositionTableLeaves() throws IOException {
        Path dir = Golden.path("xlmr-tiny-ce");
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        try (SafeTensors weights = SafeTensors.open(dir.resolve("model.safetensors"))) {
            CrossEncoder model = (CrossEncoder) Model.load(dir, config, weights, BACKEND);
            int[] ids = new int[65];
            ids[64] = 2;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.logits(List.of(new Encoding(ids, new int[65], false)), 1));
            assertTrue(e.getMessage().contains("64"), e.getMessage());
            int[] outside = {0, 4000, 2};
            ModelFormatException bad = assertThrows(ModelFormatException.class,
                    () -> model.logits(List.of(new Encoding(outside, new int[3], false)), 1));
            assertTrue(bad.getMessage().contains("4000"), bad.getMessage());
        }
    }

    /** A copy of the golden model whose tensors pass through {@code edit} (null drops one). */
    private static Path edited(Path tmp, UnaryOperator<Tensor> edit) throws IOException {
        Path src = Golden.path("xlmr-tiny-ce");
        Files.copy(src.resolve("config.json"), tmp.resolve("config.json"));
        try (SafeTensors in = SafeTensors.open(src.resolve("model.safetensors"))) {
            SafeTensorsWriter out = new SafeTensorsWriter();
            for (String name : in.names()) {
                Tensor t = edit.apply(in.tensor(name));
                if (t != null) out.add(t.name(), t.dtype(), t.shape(), t.data());
            }
            out.write(tmp.resolve("model.safetensors"));
        }
        return tmp;
    }

    private static ModelFormatException loadFails(Path dir) {
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        try (SafeTensors weights = SafeTensors.open(dir.resolve("model.safetensors"))) {
            return assertThrows(ModelFormatException.class, () -> Model.load(dir, config, weights, BACKEND));
        }
    }

    @Test
    void namesAMissingRobertaTensor(@TempDir Path tmp) throws IOException {
        String missing = "roberta.encoder.layer.1.attention.self.value.weight";
        Path dir = edited(tmp, t -> t.name().equals(missing) ? null : t);
        ModelFormatException e = loadFails(dir);
        assertTrue(e.getMessage().contains(missing), e.getMessage());
    }

    @Test
    void namesTheExpectedPrefixWhenTheEncoderIsNotUnderRoberta(@TempDir Path tmp) throws IOException {
        Path dir = edited(tmp, t -> t.name().startsWith("roberta.")
                ? new Tensor("xlmr." + t.name().substring(8), t.dtype(), t.shape(), t.data()) : t);
        ModelFormatException e = loadFails(dir);
        assertTrue(e.getMessage().contains("embeddings.word_embeddings.weight") && e.getMessage().contains("roberta."), e.getMessage());
    }

    @Test
    void rejectsAClassifierWithTheWrongShape(@TempDir Path tmp) throws IOException {
        // Two labels' worth of out_proj rows under a config that says one label.
        Path dir = edited(tmp, t -> t.name().equals("classifier.out_proj.weight")
                ? new Tensor(t.name(), t.dtype(), new long[] {2, 16}, t.data()) : t);
        ModelFormatException e = loadFails(dir);
        assertTrue(e.getMessage().contains("classifier.out_proj.weight") && e.getMessage().contains("[2, 16]"), e.getMessage());
    }

    @Test
    void namesAMissingClassifierTensor(@TempDir Path tmp) throws IOException {
        Path dir = edited(tmp, t -> t.name().startsWith("classifier.dense.") ? null : t);
        ModelFormatException e = loadFails(dir);
        assertTrue(e.getMessage().contains("classifier.dense.weight"), e.getMessage());
    }

    @Test
    void rejectsAConfigVocabularyThatDisagreesWithTheEmbeddings(@TempDir Path tmp) throws IOException {
        Path dir = edited(tmp, t -> t);
        Files.writeString(dir.resolve("config.json"),
                Files.readString(dir.resolve("config.json")).replace("\"vocab_size\": 4000", "\"vocab_size\": 250002"));
        ModelFormatException e = loadFails(dir);
        assertTrue(e.getMessage().contains("roberta.embeddings.word_embeddings.weight") && e.getMessage().contains("250002"), e.getMessage());
    }

    @Test
    void rejectsARobertaHeadOnABertConfig(@TempDir Path tmp) throws IOException {
        Path dir = edited(tmp, t -> t);
        Files.writeString(dir.resolve("config.json"),
                Files.readString(dir.resolve("config.json")).replace("\"model_type\": \"xlm-roberta\"", "\"model_type\": \"bert\""));
        ModelFormatException e = loadFails(dir);
        assertTrue(e.getMessage().contains("model_type"), e.getMessage());
    }
}
