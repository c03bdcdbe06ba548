package dev.rerank4j;

import dev.rerank4j.tokenize.Encoding;
import dev.rerank4j.tokenize.Tokenizer;
import dev.rerank4j.tokenize.TokenizerJson;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void logitsAndSigmoidsMatchTransformersForEveryPairIncludingTruncatedOnes(String name) throws Exception {
        Map<String, Object> golden = Golden.json(name + ".json");
        Tokenizer tokenizer = TokenizerJson.load(Golden.path(name + "/tokenizer.json"));
        List<Map<String, Object>> pairs = Golden.list(golden, "pairs");
        assertTrue(pairs.stream().anyMatch(p -> Boolean.TRUE.equals(p.get("truncated"))), "golden file has a truncated pair");
        double worst = 0;
        for (Map<String, Object> pair : pairs) {
            int maxLength = ((Number) pair.get("max_length")).intValue();
            String query = (String) pair.get("query");
            String doc = (String) pair.get("doc");
            Encoding e = tokenizer.encodePair(query, doc, maxLength);
            assertArrayEquals(Golden.ints(pair.get("input_ids")), e.ids(), () -> "ids of " + pair.get("id"));
            try (Reranker raw = Reranker.load(Golden.path(name),
                    Golden.options().withMaxLength(maxLength).withScoreFunction(Options.ScoreFunction.RAW));
                 Reranker sigmoid = Reranker.load(Golden.path(name),
                         Golden.options().withMaxLength(maxLength).withScoreFunction(Options.ScoreFunction.SIGMOID))) {
                double logit = ((Number) pair.get("logit")).doubleValue();
                float score = raw.score(query, List.of(doc))[0];
                worst = Math.max(worst, Math.abs(score - logit));
                assertEquals(logit, score, LOGIT_TOLERANCE, () -> "logit of " + pair.get("id"));
                assertEquals(((Number) pair.get("sigmoid")).doubleValue(), sigmoid.score(query, List.of(doc))[0], LOGIT_TOLERANCE,
                        () -> "CrossEncoder.predict's score of " + pair.get("id"));
            }
        }
        System.out.printf("%s: %d pairs, max |Δlogit| = %.2e%n", name, pairs.size(), worst);
    }
}
