package dev.rerank4j;

import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.model.CausalReranker;
import dev.rerank4j.model.Model;
import dev.rerank4j.tokenize.Encoding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reproduces transformers' Qwen3 rerankers on three tiny random models (tools/make_golden.py --only-qwen3): 4 query heads
 * sharing 2 key/value heads of 24 dims (not hidden / heads), q/k RMSNorm, RoPE, SwiGLU and causal attention; the
 * causal-LM yes/no head with tied embeddings (Qwen3-Reranker-0.6B's kind) and with its own lm_head in BF16
 * (Qwen3-Reranker-8B's kind, config.json in the hub's transformers-4 form), and the one-label classifier of the converted
 * "-seq-cls" checkpoints. Inputs are built as the Qwen3-Reranker model card builds them.
 */
class Qwen3GoldenTest {
    private static final double LOGIT_TOLERANCE = 1e-4;

    /**
     * The network alone, on the golden ids: every pair's raw logit within 1e-4 of transformers', whether the pairs run
     * one per call or all in one call of small batches (ragged, side by side; the results come back in the pairs' order).
     */
    @ParameterizedTest
    @ValueSource(strings = {"qwen3-tiny-reranker", "qwen3-tiny-reranker-bf16", "qwen3-tiny-seq-cls"})
    void logitsOfTheGoldenIdsMatchTransformersAloneAndBatched(String name) {
        checkLogitsOfTheGoldenIds(name, "raw");
    }

    /**
     * A causal golden's network alone, on its ids: every pair's logit within 1e-4 of its "raw" one pair at a time, and
     * within 1e-4 of its {@code batchedKey} when all run in one call of small batches (ragged, side by side; the results
     * come back in the pairs' order).
     */
    static void checkLogitsOfTheGoldenIds(String name, String batchedKey) {
        Map<String, Object> golden = Golden.json(name + ".json");
        List<Map<String, Object>> pairs = Golden.list(golden, "pairs");
        @SuppressWarnings("unchecked")
        Map<String, Object> model = (Map<String, Object>) golden.get("model");
        int yes = ((Number) model.get("yes_id")).intValue(), no = ((Number) model.get("no_id")).intValue();
        Path dir = Golden.path(name);
        try (SafeTensors weights = SafeTensors.open(dir.resolve("model.safetensors")); CpuBackend backend = new CpuBackend(2)) {
            CausalReranker reranker = (CausalReranker) Model.load(dir, ModelConfig.read(dir.resolve("config.json")), weights, backend);
            List<Encoding> all = new ArrayList<>();
            double worst = 0;
            for (Map<String, Object> pair : pairs) {
                int[] ids = Golden.ints(pair.get("input_ids"));
                Encoding e = new Encoding(ids, new int[ids.length], false);
                all.add(e);
                double raw = ((Number) pair.get("raw")).doubleValue();
                float got = reranker.logits(List.of(e), 8, yes, no)[0];
                worst = Math.max(worst, Math.abs(got - raw));
                assertEquals(raw, got, LOGIT_TOLERANCE, () -> "logit of " + pair.get("id"));
            }
            float[] batched = reranker.logits(all, 3, yes, no);
            for (int i = 0; i < pairs.size(); i++) {
                assertEquals(((Number) pairs.get(i).get(batchedKey)).doubleValue(), batched[i], LOGIT_TOLERANCE,
                        "batched logit of " + pairs.get(i).get("id"));
            }
            System.out.printf("%s: %d pairs, max |Δlogit| = %.2e%n", name, pairs.size(), worst);
        }
    }

    /**
     * Text to score through {@link Reranker}: each pair's ids as the model card builds them (prefix, the instruction, query
     * and document cut from their end to fit max_length, suffix), whether it was cut, and its raw logit and score (P(yes),
     * or the classifier's sigmoid) within 1e-4, with the pair's own instruction where it has one.
     */
    @ParameterizedTest
    @ValueSource(strings = {"qwen3-tiny-reranker", "qwen3-tiny-reranker-bf16", "qwen3-tiny-seq-cls"})
    void textToScoreMatchesTheModelCardsRecipe(String name) {
        Map<String, Object> golden = Golden.json(name + ".json");
        String defaultInstruction = (String) golden.get("default_instruction");
        Map<String, List<Map<String, Object>>> byOptions = new java.util.LinkedHashMap<>();
        for (Map<String, Object> pair : Golden.list(golden, "pairs")) {
            byOptions.computeIfAbsent(pair.get("max_length") + "|" + pair.get("instruction"), k -> new ArrayList<>()).add(pair);
        }
        for (List<Map<String, Object>> pairs : byOptions.values()) {
            Map<String, Object> first = pairs.getFirst();
            String instruction = (String) first.get("instruction");
            Options options = Golden.options().withMaxLength(((Number) first.get("max_length")).intValue())
                    .withInstruction(instruction.equals(defaultInstruction) ? null : instruction);
            try (Reranker scored = Reranker.load(Golden.path(name), options);
                 Reranker raw = Reranker.load(Golden.path(name), options.withScoreFunction(Options.ScoreFunction.RAW))) {
                Scorer.Causal scorer = (Scorer.Causal) scored.scorer();
                List<Pair> batch = new ArrayList<>();
                for (Map<String, Object> pair : pairs) {
                    String query = (String) pair.get("query"), doc = (String) pair.get("doc");
                    Encoding e = scorer.encode(query, doc);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(Golden.ints(pair.get("input_ids")), e.ids(), () -> "ids of " + pair.get("id"));
                    assertEquals(pair.get("truncated"), e.truncated(), () -> "cut " + pair.get("id"));
                    assertEquals(((Number) pair.get("score")).doubleValue(), scored.score(query, List.of(doc))[0], LOGIT_TOLERANCE,
                            () -> "score of " + pair.get("id"));
                    batch.add(new Pair(query, doc));
                }
                float[] logits = raw.score(batch);
                for (int i = 0; i < pairs.size(); i++) {
                    assertEquals(((Number) pairs.get(i).get("raw")).doubleValue(), logits[i], LOGIT_TOLERANCE, "raw logit of " + pairs.get(i).get("id"));
                }
            }
        }
    }

    @Test
    void theDescriptionSaysWhatTheConfigDecided() {
        try (Reranker tied = Reranker.load(Golden.path("qwen3-tiny-reranker"), Golden.options());
             Reranker classifier = Reranker.load(Golden.path("qwen3-tiny-seq-cls"), Golden.options().withInstruction("Find the answer"))) {
            assertTrue(tied.description().get("encoder").endsWith("2 key/value heads of 24 dims, RoPE θ 1000000, tied embeddings"),
                    tied.description().get("encoder"));
            assertTrue(tied.description().get("kind").contains("score = sigmoid(logit), logit = logit[yes] − logit[no]"),
                    tied.description().get("kind"));
            assertTrue(tied.description().get("max length").startsWith("1024 tokens"), tied.description().get("max length"));
            assertTrue(classifier.description().get("kind").contains("the classifier's; instruction \"Find the answer\""),
                    classifier.description().get("kind"));
        }
    }

    /** Configurations rerank4j would not run as transformers does are refused at load, naming the field. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"rope_type\": \"default\"|\"rope_type\": \"yarn\"|rope_type \"yarn\" is not supported",
            "\"hidden_act\": \"silu\"|\"hidden_act\": \"gelu\"|hidden_act 'gelu' is not supported",
            "\"attention_bias\": false|\"attention_bias\": true|attention_bias true is not supported",
            "\"num_key_value_heads\": 2|\"num_key_value_heads\": 3|not a multiple of num_key_value_heads 3",
            "\"head_dim\": 24|\"head_dim\": 16|tensor 'model.layers.0.self_attn.q_proj.weight' has shape [96, 64] but config.json implies [64, 64]",
            "\"tie_word_embeddings\": true|\"tie_word_embeddings\": false|missing tensor 'lm_head.weight'",
            "\"full_attention\",|\"sliding_attention\",|layer_types must be 3 times \"full_attention\"",
            "\"model_type\": \"qwen3\"|\"model_type\": \"bert\"|",
    })
    void unsupportedOrInconsistentConfigsAreRefused(String field, String replacement, String message, @TempDir Path dir) throws IOException {
        Path model = Golden.copyWithConfig("qwen3-tiny-reranker", dir, field, replacement);
        RuntimeException e = assertThrows(RuntimeException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e instanceof ModelFormatException, e.toString());
        if (message != null) assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    /**
     * Saved by sentence-transformers as a CrossEncoder (Transformer → LogitScore): with yes and no as its answer tokens it
     * scores as without those files; other answer tokens, or one alone (zerank-2's kind), are refused, not read as yes/no.
     */
    @Test
    void aSentenceTransformersLogitScoreMustReadYesAndNo(@TempDir Path dir) throws IOException {
        Map<String, Object> model = (Map<String, Object>) Golden.json("qwen3-tiny-reranker.json").get("model");
        long yes = ((Number) model.get("yes_id")).longValue(), no = ((Number) model.get("no_id")).longValue();
        float[] plain;
        try (Reranker reranker = Reranker.load(Golden.path("qwen3-tiny-reranker"), Golden.options())) {
            plain = reranker.score("how many people live in berlin?", List.of("Berlin has about 3.7 million inhabitants."));
        }
        String[][] answers = {{yes + "", no + ""}, {no + "", yes + ""}, {yes + "", "null"}};
        for (String[] answer : answers) {
            Path copy = Golden.copyWithConfig("qwen3-tiny-reranker", dir.resolve(answer[0] + "-" + answer[1]), "\"qwen3\"", "\"qwen3\"");
            Files.writeString(copy.resolve("modules.json"), """
                    [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
                     {"idx": 1, "name": "1", "path": "1_LogitScore", "type": "sentence_transformers.cross_encoder.modules.logit_score.LogitScore"}]""");
            Files.createDirectories(copy.resolve("1_LogitScore"));
            Files.writeString(copy.resolve("1_LogitScore/config.json"),
                    "{\"true_token_id\": " + answer[0] + ", \"false_token_id\": " + answer[1] + "}");
            if (answer == answers[0]) {
                try (Reranker reranker = Reranker.load(copy, Golden.options())) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(plain,
                            reranker.score("how many people live in berlin?", List.of("Berlin has about 3.7 million inhabitants.")));
                }
            } else {
                ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(copy, Golden.options()));
                assertTrue(e.getMessage().contains("are not the ids of \"yes\""), e.getMessage());
            }
        }
    }

    /** Config forms transformers runs with full attention and default RoPE load and score as the fixture does. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"rope_scaling\": null|\"rope_scaling\": {\"rope_type\": \"default\"}",
            "\"use_sliding_window\": false|\"use_sliding_window\": true", // max_window_layers 3 = num_hidden_layers
    })
    void configsThatTransformersRunsWithFullAttentionAndDefaultRopeLoad(String field, String replacement, @TempDir Path dir) throws IOException {
        Path model = Golden.copyWithConfig("qwen3-tiny-reranker-bf16", dir, field, replacement);
        try (Reranker edited = Reranker.load(model, Golden.options());
             Reranker fixture = Reranker.load(Golden.path("qwen3-tiny-reranker-bf16"), Golden.options())) {
            assertEquals(fixture.score("q", List.of("Berlin"))[0], edited.score("q", List.of("Berlin"))[0], 0f);
        }
    }

    /** A tokenizer without the answer token "yes" is refused at load, naming its file. */
    @Test
    void aTokenizerWithoutTheAnswerTokensIsRefused(@TempDir Path dir) throws IOException {
        Path model = Golden.copyWithConfig("qwen3-tiny-reranker", dir, "\"qwen3\"", "\"qwen3\"");
        Map<String, Object> tokenizer = dev.rerank4j.io.Json.parseObjectFile(model.resolve("tokenizer.json"));
        @SuppressWarnings("unchecked")
        Map<String, Object> bpe = (Map<String, Object>) tokenizer.get("model");
        assertTrue(((Map<?, ?>) bpe.get("vocab")).remove("yes") != null, "the vocabulary held yes");
        ((List<?>) bpe.get("merges")).removeIf(m -> m instanceof List<?> pair && (pair.contains("yes") || "yes".equals(pair.get(0) + "" + pair.get(1))));
        Files.writeString(model.resolve("tokenizer.json"), dev.rerank4j.io.Json.write(tokenizer));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains("tokenizer.json: the tokenizer has no token 'yes'"), e.getMessage());
    }

    @Test
    void anInstructionForAModelThatTakesNoneIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Reranker.load(Golden.path("bert-tiny-ce"), Golden.options().withInstruction("Find the answer")));
        assertTrue(e.getMessage().contains("not an instruction-following reranker"), e.getMessage());
    }

    @Test
    void aLimitWithNoRoomForThePairIsRefusedAtLoad() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Reranker.load(Golden.path("qwen3-tiny-reranker"), Golden.options().withMaxLength(40)));
        assertTrue(e.getMessage().contains("leaves no room for the pair"), e.getMessage());
    }
}
