package dev.rerank4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reproduces transformers' ModernBertForSequenceClassification (the architecture of Alibaba-NLP/gte-reranker-modernbert-base)
 * on two tiny random models (tools/make_golden.py --only-modernbert): RoPE with a base per layer kind, 8-token local
 * windows in the sliding layers, a GeGLU feed-forward, pre-norm layers; one without biases pooled by the mean, as
 * transformers 5 saves it, the other with every bias, pooled by the first token, its config.json in transformers 4's form.
 */
class ModernBertGoldenTest {
    private static final double LOGIT_TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"modernbert-tiny-ce", "modernbert-tiny-ce-cls"})
    void logitsAndSigmoidsMatchTransformersForEveryPairIncludingTruncatedOnes(String name) throws IOException {
        Golden.assertCrossEncoderMatches(name, LOGIT_TOLERANCE);
    }

    @Test
    void theDescriptionSaysWhatTheConfigDecided() {
        try (Reranker mean = Reranker.load(Golden.path("modernbert-tiny-ce"), Golden.options());
             Reranker cls = Reranker.load(Golden.path("modernbert-tiny-ce-cls"), Golden.options())) {
            assertTrue(mean.description().get("encoder").endsWith(
                    "RoPE θ 160000 (10000 local), 2 of 4 layers see ±8 tokens, head on the mean of the tokens"), mean.description().get("encoder"));
            assertTrue(cls.description().get("encoder").endsWith(
                    "RoPE θ 80000 (5000 local), 2 of 4 layers see ±8 tokens, head on the first token"), cls.description().get("encoder"));
        }
    }

    /** Configurations rerank4j would not run as transformers does are refused at load, naming the field. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"rope_type\": \"default\"|\"rope_type\": \"yarn\"|rope_type \"yarn\" of full_attention is not supported",
            "\"classifier_pooling\": \"mean\"|\"classifier_pooling\": \"max\"|classifier_pooling \"max\" is not one of",
            "\"hidden_activation\": \"gelu\"|\"hidden_activation\": \"silu\"|hidden_activation \"silu\" is not supported",
            "\"sliding_attention\",|\"sliding_attention\", \"sliding_attention\",|layer_types must be an array of 4 layer types",
            "\"norm_bias\": false|\"norm_bias\": true|missing tensor 'model.layers.0.mlp_norm.bias'",
            "\"model_type\": \"modernbert\"|\"model_type\": \"bert\"|name a ModernBERT head but model_type is 'bert'",
    })
    void unsupportedOrInconsistentConfigsAreRefused(String field, String replacement, String message, @TempDir Path dir) throws IOException {
        Path model = dir.resolve("modernbert");
        Files.createDirectories(model);
        for (String name : List.of("model.safetensors", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(Golden.path("modernbert-tiny-ce/" + name), model.resolve(name));
        }
        String config = Files.readString(Golden.path("modernbert-tiny-ce/config.json"));
        assertTrue(config.contains(field), field);
        Files.writeString(model.resolve("config.json"), config.replaceFirst(java.util.regex.Pattern.quote(field), replacement));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
