package dev.rerank4j;

import dev.rerank4j.tokenize.Encoding;
import dev.rerank4j.tokenize.Tokenizer;
import dev.rerank4j.tokenize.TokenizerJson;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reproduces HF transformers' BertForSequenceClassification logits on a tiny random model (tools/make_golden.py). */
class CrossEncoderGoldenTest {
    /** The parity bar for fp32; observed differences are ~1e-6 (float accumulation order). */
    private static final double LOGIT_TOLERANCE = 1e-4;
    /**
     * As RerankerTest.SAME_SCORE: interpreted and C2-compiled Vector API code round exp differently, so
     * a later call (rank after score) may differ from an earlier one in the last bits.
     */
    private static final float SAME_SCORE = 1e-5f;

    private static final Map<String, Object> GOLDEN = Golden.json("bert-tiny-ce.json");

    @Test
    void tokenIdsEqualTheReferenceTokenizers() throws java.io.IOException {
        Tokenizer tokenizer = TokenizerJson.load(Golden.path("bert-tiny-ce/tokenizer.json"));
        for (Map<String, Object> pair : Golden.list(GOLDEN, "pairs")) {
            int maxLength = ((Number) pair.get("max_length")).intValue();
            Encoding e = tokenizer.encodePair((String) pair.get("query"), (String) pair.get("doc"), maxLength);
            assertArrayEquals(Golden.ints(pair.get("input_ids")), e.ids(), () -> "ids of " + pair.get("id"));
            assertArrayEquals(Golden.ints(pair.get("token_type_ids")), e.typeIds(), () -> "type ids of " + pair.get("id"));
            assertEquals(pair.get("truncated"), e.truncated(), () -> "truncation flag of " + pair.get("id"));
        }
    }

    @Test
    void logitsMatchTransformersForEveryPairIncludingTruncatedAndEmpty() {
        List<Map<String, Object>> pairs = Golden.list(GOLDEN, "pairs");
        assertTrue(pairs.stream().anyMatch(p -> Boolean.TRUE.equals(p.get("truncated"))), "golden file has a truncated pair");
        assertTrue(pairs.stream().anyMatch(p -> "".equals(p.get("doc"))), "golden file has an empty doc");
        double worst = 0;
        for (int maxLength : pairs.stream().mapToInt(p -> ((Number) p.get("max_length")).intValue()).distinct().toArray()) {
            List<Map<String, Object>> group = pairs.stream().filter(p -> ((Number) p.get("max_length")).intValue() == maxLength).toList();
            try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"),
                    Golden.options().withMaxLength(maxLength).withScoreFunction(Options.ScoreFunction.RAW).withBatchSize(5))) {
                for (Map<String, Object> pair : group) { // one query per pair: score each on its own, then all in one batch below
                    float[] score = reranker.score((String) pair.get("query"), List.of((String) pair.get("doc")));
                    double expected = ((Number) pair.get("logit")).doubleValue();
                    worst = Math.max(worst, Math.abs(score[0] - expected));
                    assertEquals(expected, score[0], LOGIT_TOLERANCE, () -> "logit of " + pair.get("id"));
                }
            }
        }
        System.out.printf("bert-tiny-ce: %d pairs, max |Δlogit| = %.2e%n", pairs.size(), worst);
    }

    @Test
    void batchingManyDocumentsKeepsTheCallersOrder() {
        Golden.OneQuery one = Golden.firstQueryWithItsDocs(GOLDEN, 64);
        String query = one.query();
        List<String> docs = one.docs();
        try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"),
                Golden.options().withMaxLength(64).withScoreFunction(Options.ScoreFunction.RAW).withBatchSize(2))) {
            float[] scores = reranker.score(query, docs);
            for (int i = 0; i < docs.size(); i++) assertEquals(one.logits()[i], scores[i], LOGIT_TOLERANCE, "doc " + i);
            List<Ranked> ranked = reranker.rank(query, docs, docs.size());
            for (int i = 1; i < ranked.size(); i++) {
                assertTrue(ranked.get(i - 1).score() >= ranked.get(i).score(), "sorted best first");
            }
            for (Ranked r : ranked) {
                assertEquals(scores[r.index()], r.score(), SAME_SCORE);
                assertEquals(docs.get(r.index()), r.text());
            }
        }
    }

    @Test
    void sigmoidIsAppliedOnRequest() {
        Map<String, Object> pair = Golden.list(GOLDEN, "pairs").getFirst();
        try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"), Golden.options()
                .withMaxLength(((Number) pair.get("max_length")).intValue()).withScoreFunction(Options.ScoreFunction.SIGMOID))) {
            float[] score = reranker.score((String) pair.get("query"), List.of((String) pair.get("doc")));
            assertEquals(((Number) pair.get("sigmoid")).doubleValue(), score[0], LOGIT_TOLERANCE);
        }
    }
}
