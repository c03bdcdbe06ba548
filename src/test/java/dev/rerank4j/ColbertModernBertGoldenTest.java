package dev.rerank4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A ColBERT on ModernBERT in PyLate's layout (lightonai/GTE-ModernColBERT-v1's kind; tools/make_golden.py
 * --colbert-modernbert-only): PyLate's token ids, with the "[Q] " and "[D] " tokens it adds, and its MaxSim scores, with
 * the query's [MASK] padding attended to by nothing and the documents cut by the sliding layers' windows.
 */
class ColbertModernBertGoldenTest {
    private static final double SCORE_TOLERANCE = 1e-4;
    private static final Map<String, Object> GOLDEN = Golden.json("colbert-modernbert-tiny.json");

    @Test
    void tokenIdsAndMaxSimScoresMatchPyLate() {
        List<Map<String, Object>> queries = Golden.list(GOLDEN, "queries"), docs = Golden.list(GOLDEN, "documents");
        List<String> texts = docs.stream().map(d -> (String) d.get("text")).toList();
        List<?> expected = (List<?>) GOLDEN.get("scores");
        try (Reranker reranker = Reranker.load(Golden.path("colbert-modernbert-tiny"), Golden.options().withBatchSize(7))) {
            Scorer.Colbert colbert = (Scorer.Colbert) reranker.scorer();
            assertEquals(((Number) ((Map<?, ?>) GOLDEN.get("model")).get("document_length")).intValue(), reranker.maxLength());
            for (Map<String, Object> q : queries) {
                assertArrayEquals(Golden.ints(q.get("input_ids")), colbert.queryIds((String) q.get("text")), () -> "query " + q.get("text"));
            }
            for (Map<String, Object> d : docs) {
                assertArrayEquals(Golden.ints(d.get("input_ids")), colbert.documentIds((String) d.get("text")), () -> "document " + d.get("text"));
            }
            DocumentEmbeddings embeddings = reranker.encodeDocuments(texts);
            int[] all = IntStream.range(0, docs.size()).toArray();
            double worst = 0;
            for (int i = 0; i < queries.size(); i++) {
                String query = (String) queries.get(i).get("text");
                float[] direct = reranker.score(query, texts), stored = reranker.score(query, embeddings, all);
                for (int j = 0; j < docs.size(); j++) {
                    double want = ((Number) ((List<?>) expected.get(i)).get(j)).doubleValue();
                    worst = Math.max(worst, Math.abs(direct[j] - want));
                    assertEquals(want, direct[j], SCORE_TOLERANCE, "query " + i + ", document " + j);
                    assertEquals(direct[j], stored[j], 1e-5, "stored embeddings, query " + i + ", document " + j);
                }
            }
            assertTrue(reranker.description().get("encoder").contains("1 of 3 layers see ±32 tokens"), reranker.description().get("encoder"));
            System.out.printf("colbert-modernbert-tiny: %d × %d scores, max |Δ| = %.2e%n", queries.size(), docs.size(), worst);
        }
    }

    /**
     * PyLate (on sentence-transformers ≤ 5) strips every text before tokenizing, as Python's str.strip does: with this
     * byte-level BPE " berlin" would tokenize unlike "berlin" (a review against PyLate 1.6.0 found scores 12.4 and 16.6).
     */
    @Test
    void textsAreStrippedAsPyLateStripsThem() {
        try (Reranker reranker = Reranker.load(Golden.path("colbert-modernbert-tiny"), Golden.options())) {
            Scorer.Colbert colbert = (Scorer.Colbert) reranker.scorer();
            assertArrayEquals(colbert.documentIds("berlin"), colbert.documentIds(" \u00a0berlin\n\u0085"));
            assertArrayEquals(colbert.queryIds("berlin"), colbert.queryIds("\tberlin\u3000"));
            float[] scores = reranker.score("berlin", List.of("berlin", " berlin", "berlin\n"));
            assertEquals(scores[0], scores[1], 0f);
            assertEquals(scores[0], scores[2], 0f);
            assertArrayEquals(scores, reranker.score(" berlin ", List.of("berlin", " berlin", "berlin\n")));
        }
    }

    /** Queries padded so long that a short one's last [MASK] tokens see no real token in a sliding window are refused at load. */
    @Test
    void queriesPaddedPastTheWindowAreRefused(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("colbert");
        Path source = Golden.path("colbert-modernbert-tiny");
        try (var files = Files.walk(source)) {
            for (Path f : files.toList()) {
                Path to = model.resolve(source.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(to);
                else Files.copy(f, to);
            }
        }
        Path st = model.resolve("config_sentence_transformers.json");
        Files.writeString(st, Files.readString(st).replace("\"query_length\": 32", "\"query_length\": 36"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains("(query_length at most 35)"), e.getMessage());
    }
}
