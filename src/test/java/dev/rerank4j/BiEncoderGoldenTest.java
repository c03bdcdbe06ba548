package dev.rerank4j;

import dev.rerank4j.tokenize.Tokenizer;
import dev.rerank4j.tokenize.TokenizerJson;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Bi-encoders beyond mean pooling, as sentence-transformers 6.2 saves and runs them (tools/make_golden.py
 * --only-bi-encoders): first-token pooling, the dot product over unnormalised embeddings, prompts before queries and
 * documents (E5's layout, whose "passage" prompt sentence-transformers 6.2 does not apply, and nomic-embed's), on BERT
 * and on ModernBERT. Scores against {@code similarity(encode_query(q), encode_document(d))}.
 */
class BiEncoderGoldenTest {
    /** The dot products reach 41: their float rounding is about 41 · 32 · 2⁻²⁴ ≈ 8e-5 at worst, far less in practice. */
    private static final double SCORE_TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"bi-tiny-cls-dot", "bi-modernbert-cls"})
    void promptedIdsAndScoresMatchSentenceTransformers(String name) throws IOException {
        Map<String, Object> golden = Golden.json(name + ".json");
        Map<?, ?> prompts = (Map<?, ?>) golden.get("prompts");
        List<Map<String, Object>> queries = Golden.list(golden, "queries"), docs = Golden.list(golden, "documents");
        Tokenizer tokenizer = TokenizerJson.load(Golden.path(name + "/tokenizer.json"));
        for (Map<String, Object> q : queries) {
            assertArrayEquals(Golden.ints(q.get("input_ids")), tokenizer.encode(prompts.get("query") + (String) q.get("text"), 64).ids());
        }
        for (Map<String, Object> d : docs) {
            assertArrayEquals(Golden.ints(d.get("input_ids")), tokenizer.encode(prompts.get("document") + (String) d.get("text"), 64).ids());
        }
        List<String> texts = docs.stream().map(d -> (String) d.get("text")).toList();
        List<?> expected = (List<?>) golden.get("scores");
        double worst = 0;
        try (Reranker reranker = Reranker.load(Golden.path(name), Golden.options())) {
            for (int i = 0; i < queries.size(); i++) {
                float[] scores = reranker.score((String) queries.get(i).get("text"), texts);
                for (int j = 0; j < texts.size(); j++) {
                    double want = ((Number) ((List<?>) expected.get(i)).get(j)).doubleValue();
                    worst = Math.max(worst, Math.abs(scores[j] - want));
                    assertEquals(want, scores[j], SCORE_TOLERANCE, "query " + i + ", document " + j);
                }
            }
        }
        System.out.printf("%s: %d × %d scores, max |Δ| = %.2e%n", name, queries.size(), texts.size(), worst);
    }
}
