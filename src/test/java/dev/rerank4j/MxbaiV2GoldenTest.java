package dev.rerank4j;

import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.tokenize.Encoding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reproduces mixedbread's mxbai_rerank library (MxbaiRerankV2, the reference for mxbai-rerank-base-v2 and -large-v2) on a
 * tiny random Qwen2ForCausalLM (tools/make_golden.py --only-mxbai-v2): q/k/v biases, 4 query heads sharing 2 key/value
 * heads, RoPE, SwiGLU, causal attention, tied embeddings, config.json in the hub's transformers-4 form. Inputs as the
 * library builds them: prefix, the query part cut at 3/4 of max_length, "\n", the document part cut to fit, "\n", the task
 * prompt, suffix; score logit["1"] − logit["0"].
 */
class MxbaiV2GoldenTest {
    private static final String NAME = "mxbai-v2-tiny";
    private static final double LOGIT_TOLERANCE = 1e-4;

    /**
     * The network alone, on the golden ids: each pair's logit one per call against the library's on the pair alone, and in
     * one call of small batches against its left-padded batch.
     */
    @Test
    void logitsOfTheGoldenIdsMatchTheLibraryAloneAndBatched() {
        Qwen3GoldenTest.checkLogitsOfTheGoldenIds(NAME, "score");
    }

    /**
     * Text to score through {@link Reranker}, grouped by the library's max_length and instruction: each pair's ids as the
     * library builds them, whether it was cut, the limit in effect (the default 8,192 lowered to the positions less the
     * template's tokens, as the library lowers it), and the score (the raw logit, predict's default) and its sigmoid.
     */
    @Test
    void textToScoreMatchesTheLibrarysRecipe() {
        Map<String, List<Map<String, Object>>> byOptions = new LinkedHashMap<>();
        for (Map<String, Object> pair : Golden.list(Golden.json(NAME + ".json"), "pairs")) {
            byOptions.computeIfAbsent(pair.get("max_length") + "|" + pair.get("instruction"), k -> new ArrayList<>()).add(pair);
        }
        assertTrue(byOptions.size() >= 6, byOptions.keySet().toString());
        for (List<Map<String, Object>> pairs : byOptions.values()) {
            Map<String, Object> first = pairs.getFirst();
            Options options = Golden.options().withInstruction((String) first.get("instruction"));
            if (first.get("max_length") != null) options = options.withMaxLength(((Number) first.get("max_length")).intValue());
            try (Reranker raw = Reranker.load(Golden.path(NAME), options);
                 Reranker sigmoid = Reranker.load(Golden.path(NAME), options.withScoreFunction(Options.ScoreFunction.SIGMOID))) {
                assertEquals(((Number) first.get("effective_max_length")).intValue(), raw.maxLength(), "limit in effect");
                Scorer.Causal scorer = (Scorer.Causal) raw.scorer();
                List<Pair> batch = new ArrayList<>();
                for (Map<String, Object> pair : pairs) {
                    String query = (String) pair.get("query"), doc = (String) pair.get("doc");
                    Encoding e = scorer.encode(query, doc);
                    assertArrayEquals(Golden.ints(pair.get("input_ids")), e.ids(), () -> "ids of " + pair.get("id"));
                    assertEquals(pair.get("truncated"), e.truncated(), () -> "cut " + pair.get("id"));
                    double expected = ((Number) pair.get("score")).doubleValue();
                    assertEquals(1 / (1 + Math.exp(-expected)), sigmoid.score(query, List.of(doc))[0], LOGIT_TOLERANCE,
                            () -> "sigmoid score of " + pair.get("id"));
                    batch.add(new Pair(query, doc));
                }
                float[] scores = raw.score(batch);
                for (int i = 0; i < pairs.size(); i++) {
                    assertEquals(((Number) pairs.get(i).get("score")).doubleValue(), scores[i], LOGIT_TOLERANCE, "score of " + pairs.get(i).get("id"));
                }
            }
        }
    }

    @Test
    void theDescriptionSaysWhatTheLibraryDoes() {
        try (Reranker reranker = Reranker.load(Golden.path(NAME), Golden.options())) {
            Map<String, String> d = reranker.description();
            assertTrue(d.get("kind").contains("score = logit, logit = logit[1] − logit[0] of the language-model head; instruction none"),
                    d.get("kind"));
            assertTrue(d.get("encoder").startsWith("qwen2, 3 layers, hidden 64, 4 heads")
                    && d.get("encoder").endsWith("2 key/value heads of 16 dims, RoPE θ 1000000, tied embeddings"), d.get("encoder"));
            assertTrue(d.get("max length").startsWith("947 tokens (mxbai_rerank's max_length"), d.get("max length"));
            assertTrue(d.get("pairs cut").contains("3/4"), d.get("pairs cut"));
        }
    }

    /** Configurations rerank4j would not run as transformers does, or that do not match the weights, are refused at load. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"hidden_act\": \"silu\"|\"hidden_act\": \"gelu\"|hidden_act 'gelu' is not supported",
            "\"use_sliding_window\": false|\"use_sliding_window\": true|gives layers a sliding window",
            "\"rope_scaling\": null|\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0}|rope_scaling",
            "\"num_key_value_heads\": 2|\"num_key_value_heads\": 4|tensor 'model.layers.0.self_attn.k_proj.bias' has shape [32] but config.json implies [64]",
            "\"hidden_size\": 64|\"hidden_size\": 66|not a multiple of num_attention_heads",
            "\"tie_word_embeddings\": true|\"tie_word_embeddings\": false|missing tensor 'lm_head.weight'",
            "\"model_type\": \"qwen2\"|\"model_type\": \"qwen3\"|name a qwen2 head but model_type is 'qwen3'",
            "\"Qwen2ForCausalLM\"|\"Qwen2ForSequenceClassification\"|cannot tell which model this is",
    })
    void unsupportedOrInconsistentConfigsAreRefused(String field, String replacement, String message, @TempDir Path dir) throws IOException {
        Path model = Golden.copyWithConfig(NAME, dir, field, replacement);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    /** A checkpoint without a Q bias is not a Qwen2: refused, naming the tensor, not run without it. */
    @Test
    void aMissingBiasIsRefused(@TempDir Path dir) throws IOException {
        Path model = Golden.copyWithConfig(NAME, dir, "\"qwen2\"", "\"qwen2\"");
        try (SafeTensors weights = SafeTensors.open(model.resolve("model.safetensors"))) {
            dev.rerank4j.io.SafeTensorsWriter writer = new dev.rerank4j.io.SafeTensorsWriter();
            for (String name : weights.names()) {
                if (name.equals("model.layers.1.self_attn.q_proj.bias")) continue;
                SafeTensors.Raw raw = weights.raw(name).orElseThrow();
                writer.add(name, dev.rerank4j.io.DType.fromSafetensorsName(raw.dtype()).orElseThrow(), raw.shape(), raw.bytes());
            }
            writer.write(model.resolve("stripped.safetensors"));
        }
        Files.move(model.resolve("stripped.safetensors"), model.resolve("model.safetensors"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains("missing tensor 'model.layers.1.self_attn.q_proj.bias'"), e.getMessage());
    }

    /**
     * A limit the library would lower (past the positions less the template) is lowered alike; one with no room for a pair
     * is refused at load, as is a limit past the positions themselves.
     */
    @Test
    void limitsAreLoweredOrRefusedAsTheLibraryWould() {
        try (Reranker reranker = Reranker.load(Golden.path(NAME), Golden.options().withMaxLength(1000))) {
            assertEquals(947, reranker.maxLength());
            assertEquals("947 tokens (the maxLength asked for (Options.withMaxLength, --max-length), lowered from 1000 to leave"
                    + " room for the prompt within the model's positions)", reranker.description().get("max length"));
        }
        IllegalArgumentException tooSmall = assertThrows(IllegalArgumentException.class,
                () -> Reranker.load(Golden.path(NAME), Golden.options().withMaxLength(1)));
        assertTrue(tooSmall.getMessage().contains("leaves no room for the pair"), tooSmall.getMessage());
        IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class,
                () -> Reranker.load(Golden.path(NAME), Golden.options().withMaxLength(1025)));
        assertTrue(tooLarge.getMessage().contains("exceeds the model's maximum input of 1024 tokens"), tooLarge.getMessage());
    }

    /** Qwen2 embedders (gte-Qwen2-*-instruct) attend both ways in their own code: a Qwen2 bi-encoder is refused, not run causal. */
    @Test
    void aSentenceTransformersBiEncoderOnQwen2IsRefused(@TempDir Path dir) throws IOException {
        Path model = Golden.copyWithConfig(NAME, dir, "\"qwen2\"", "\"qwen2\"");
        Files.writeString(model.resolve("modules.json"), """
                [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]""");
        Files.createDirectories(model.resolve("1_Pooling"));
        Files.writeString(model.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\": 64, \"pooling_mode_lasttoken\": true}");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains("on a Qwen2 decoder"), e.getMessage());
    }
}
