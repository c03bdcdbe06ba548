package dev.rerank4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
        Path model = Golden.copyWithConfig("modernbert-tiny-ce", dir, field, replacement);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    /**
     * Calls from four threads at once, short and long pairs mixed, the long ones growing the RoPE tables (from 256
     * positions) while the others use them: every score is the one the same call gets alone.
     */
    @Test
    void concurrentCallsThatGrowTheRopeTablesScoreAsCallsOneAtATime() throws Exception {
        List<Map<String, Object>> pairs = Golden.list(Golden.json("modernbert-tiny-ce.json"), "pairs");
        float[] alone = new float[pairs.size()];
        try (Reranker reranker = Reranker.load(Golden.path("modernbert-tiny-ce"), Golden.options().withMaxLength(400)
                .withScoreFunction(Options.ScoreFunction.RAW))) {
            for (int i = 0; i < pairs.size(); i++) alone[i] = scoreOf(reranker, pairs.get(i));
        }
        try (Reranker reranker = Reranker.load(Golden.path("modernbert-tiny-ce"), Golden.options().withMaxLength(400)
                .withScoreFunction(Options.ScoreFunction.RAW));
             var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
            List<java.util.concurrent.Future<float[]>> runs = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int shift = t;
                runs.add(pool.submit(() -> {
                    float[] got = new float[pairs.size()];
                    for (int k = 0; k < pairs.size(); k++) {
                        int i = (k * 7 + shift * 5) % pairs.size(); // each thread its own order
                        got[i] = scoreOf(reranker, pairs.get(i));
                    }
                    return got;
                }));
            }
            // equal up to the last bits: interpreted and compiled Vector API code round exp differently (RerankerTest.SAME_SCORE)
            for (var run : runs) assertArrayEquals(alone, run.get(), 1e-5f);
        }
    }

    private static float scoreOf(Reranker reranker, Map<String, Object> pair) {
        return reranker.score((String) pair.get("query"), List.of((String) pair.get("doc")))[0];
    }
}
