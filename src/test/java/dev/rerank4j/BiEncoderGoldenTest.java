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
 * and on ModernBERT; last-token pooling on a Qwen3 decoder whose tokenizer ends every text in <|endoftext|>
 * (Qwen3-Embedding's kind, --only-qwen3-embedding). Scores against {@code similarity(encode_query(q), encode_document(d))}.
 */
class BiEncoderGoldenTest {
    /** The dot products reach 41: their float rounding is about 41 · 32 · 2⁻²⁴ ≈ 8e-5 at worst, far less in practice. */
    private static final double SCORE_TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"bi-tiny-cls-dot", "bi-modernbert-cls", "bi-qwen3-last"})
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

    @org.junit.jupiter.api.Test
    void theDescriptionNamesLastTokenPoolingAndAnEncoderRefusesIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws IOException {
        try (Reranker reranker = Reranker.load(Golden.path("bi-qwen3-last"), Golden.options())) {
            org.junit.jupiter.api.Assertions.assertTrue(reranker.description().get("kind").startsWith("bi-encoder, last-token pooling"),
                    reranker.description().get("kind"));
        }
        java.nio.file.Path source = Golden.path("bi-tiny-cls-dot");
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(source)) {
            for (java.nio.file.Path f : files.toList()) {
                java.nio.file.Path to = dir.resolve(source.relativize(f).toString());
                if (java.nio.file.Files.isDirectory(f)) java.nio.file.Files.createDirectories(to);
                else java.nio.file.Files.copy(f, to);
            }
        }
        java.nio.file.Path pooling = dir.resolve("1_Pooling/config.json");
        java.nio.file.Files.writeString(pooling, java.nio.file.Files.readString(pooling).replace("\"cls\"", "\"lasttoken\""));
        ModelFormatException e = org.junit.jupiter.api.Assertions.assertThrows(ModelFormatException.class, () -> Reranker.load(dir, Golden.options()));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("last-token pooling is for causal decoders"), e.getMessage());
    }
}
