package dev.rerank4j;

import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.io.SafeTensorsWriter;
import dev.rerank4j.io.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The golden ColBERT rewritten in Stanford's layout (colbert-ir/colbertv2.0: HF_ColBERT, bert.* and
 * linear.weight in one model.safetensors, settings in artifact.metadata) scores as PyLate did.
 */
class ColbertStanfordLayoutTest {
    /** As ColbertGoldenTest: same weights, same arithmetic. */
    private static final double SCORE_TOLERANCE = 1e-4;

    static Path stanfordCopy(Path dir, String metadata) throws IOException {
        Path src = Golden.path("colbert-tiny");
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) Files.copy(src.resolve(f), dir.resolve(f));
        Files.writeString(dir.resolve("config.json"), Files.readString(src.resolve("config.json"))
                .replace("\"BertModel\"", "\"HF_ColBERT\""));
        Files.writeString(dir.resolve("artifact.metadata"), metadata);
        SafeTensorsWriter w = new SafeTensorsWriter();
        try (SafeTensors bert = SafeTensors.open(src.resolve("model.safetensors"));
             SafeTensors dense = SafeTensors.open(src.resolve("1_Dense/model.safetensors"))) {
            for (String name : bert.names()) {
                Tensor t = bert.tensor(name);
                w.add("bert." + name, t.shape(), t.toFloatArray());
            }
            Tensor linear = dense.tensor("linear.weight");
            w.add("linear.weight", linear.shape(), linear.toFloatArray());
            w.write(dir.resolve("model.safetensors"));
        }
        return dir;
    }

    @Test
    void scoresAsPyLateFromArtifactMetadata(@TempDir Path tmp) throws IOException {
        Map<String, Object> golden = Golden.json("colbert-tiny.json");
        List<String> docs = Golden.list(golden, "documents").stream().map(d -> (String) d.get("text")).toList();
        List<?> rows = (List<?>) golden.get("scores");
        Path dir = stanfordCopy(tmp, """
                {"query_token_id": "[unused0]", "doc_token_id": "[unused1]", "query_maxlen": 32, "doc_maxlen": 60,
                 "dim": 16, "similarity": "cosine", "attend_to_mask_tokens": false, "mask_punctuation": true}
                """);
        try (Reranker r = Reranker.load(dir)) {
            assertEquals(60, r.maxLength());
            for (int a = 0; a < 4; a++) {
                String query = (String) Golden.list(golden, "queries").get(a).get("text");
                float[] got = r.score(query, docs);
                List<?> expected = (List<?>) rows.get(a);
                for (int k = 0; k < docs.size(); k++) {
                    assertEquals(((Number) expected.get(k)).doubleValue(), got[k], SCORE_TOLERANCE, "query " + a + " document " + k);
                }
            }
        }
    }

    @Test
    void attendingToMaskTokensChangesQueriesButNotDocuments(@TempDir Path tmp) throws IOException {
        Path dir = stanfordCopy(tmp, """
                {"query_maxlen": 32, "doc_maxlen": 60, "attend_to_mask_tokens": true}
                """);
        Map<String, Object> golden = Golden.json("colbert-tiny.json");
        List<String> docs = Golden.list(golden, "documents").stream().map(d -> (String) d.get("text")).toList().subList(0, 5);
        String query = (String) Golden.list(golden, "queries").getFirst().get("text");
        List<?> expected = (List<?>) ((List<?>) golden.get("scores")).getFirst();
        try (Reranker r = Reranker.load(dir)) {
            float[] got = r.score(query, docs);
            assertNotEquals(((Number) expected.getFirst()).floatValue(), got[0], 1e-3f);
        }
    }

    @Test
    void documentEmbeddingsOfTheSameWeightsInEitherLayoutAreInterchangeable(@TempDir Path tmp) throws IOException {
        Path dir = stanfordCopy(tmp, "{\"query_maxlen\": 32, \"doc_maxlen\": 60}");
        List<String> docs = List.of("Berlin has about 3.7 million inhabitants.", "!!!", "sourdough");
        try (Reranker stanford = Reranker.load(dir); Reranker pylate = Reranker.load(Golden.path("colbert-tiny"))) {
            DocumentEmbeddings e = pylate.encodeDocuments(docs);
            assertEquals(e.fingerprint(), stanford.encodeDocuments(docs).fingerprint());
            int[] all = IntStream.range(0, docs.size()).toArray();
            float[] a = pylate.score("berlin", e, all), b = stanford.score("berlin", e, all);
            for (int k = 0; k < all.length; k++) assertEquals(a[k], b[k], 1e-5f); // float noise between calls (RerankerTest.SAME_SCORE)
        }
        Path longer = Files.createDirectory(tmp.resolve("longer"));
        stanfordCopy(longer, "{\"query_maxlen\": 32, \"doc_maxlen\": 100}");
        try (Reranker other = Reranker.load(longer); Reranker pylate = Reranker.load(Golden.path("colbert-tiny"))) {
            DocumentEmbeddings e = pylate.encodeDocuments(docs);
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> other.score("berlin", e, new int[] {0}));
            assertTrue(x.getMessage().contains(e.fingerprint()), x.getMessage());
        }
    }

    /**
     * Every query is padded to query_maxlen and documents are cut at doc_maxlen: a length past config.json's 128 positions
     * (or, where artifact.metadata names none, ColBERT's default doc_maxlen of 180) loaded, and the first call failed with an
     * IllegalArgumentException about its own arguments.
     */
    @Test
    void lengthsPastThePositionTableAreRefusedAtLoadNamingTheField(@TempDir Path tmp) throws IOException {
        Map<String, String> refused = Map.of(
                "{\"query_maxlen\": 32, \"doc_maxlen\": 129}", "'doc_maxlen' 129 is more than the model's maximum input of 128 tokens",
                "{\"query_maxlen\": 200, \"doc_maxlen\": 60}", "'query_maxlen' 200 is more than the model's maximum input of 128 tokens",
                "{\"query_maxlen\": 32}", "no 'doc_maxlen', and its default of 180 is more than the model's maximum input of 128 tokens");
        for (Map.Entry<String, String> c : refused.entrySet()) {
            Path dir = stanfordCopy(Files.createDirectory(tmp.resolve("m" + c.getKey().hashCode())), c.getKey());
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(dir).close(), c.getKey());
            assertTrue(e.getMessage().contains(dir.resolve("artifact.metadata") + ": " + c.getValue()), e.getMessage());
        }
        Path longest = stanfordCopy(Files.createDirectory(tmp.resolve("longest")), "{\"query_maxlen\": 128, \"doc_maxlen\": 128}");
        try (Reranker r = Reranker.load(longest)) {
            assertEquals(128, r.maxLength());
            assertEquals(2, r.score("berlin", List.of("word ".repeat(300), "museums")).length);
        }
    }

    /**
     * Stanford ColBERT builds its skiplist only with mask_punctuation: without it, punctuation's vectors count. An empty marker
     * and a similarity other than cosine are refused.
     */
    @Test
    void punctuationCountsWithoutMaskPunctuationAndOnlyCosineIsTaken(@TempDir Path tmp) throws IOException {
        Path masked = stanfordCopy(Files.createDirectory(tmp.resolve("masked")), "{\"doc_maxlen\": 60, \"mask_punctuation\": true}");
        Path unmasked = stanfordCopy(Files.createDirectory(tmp.resolve("unmasked")), "{\"doc_maxlen\": 60, \"mask_punctuation\": false}");
        List<String> docs = List.of("berlin!!! wall?", "museums");
        try (Reranker m = Reranker.load(masked); Reranker u = Reranker.load(unmasked)) {
            DocumentEmbeddings withPunctuation = u.encodeDocuments(docs), without = m.encodeDocuments(docs);
            assertEquals(without.tokenCount(0) + 4, withPunctuation.tokenCount(0), "four punctuation tokens kept");
            assertEquals(without.tokenCount(1), withPunctuation.tokenCount(1));
            assertNotEquals(without.fingerprint(), withPunctuation.fingerprint());
        }
        Path noMarker = stanfordCopy(Files.createDirectory(tmp.resolve("no-marker")), "{\"doc_maxlen\": 60, \"query_token_id\": \"\"}");
        ModelFormatException empty = assertThrows(ModelFormatException.class, () -> Reranker.load(noMarker).close(),
                "Stanford ColBERT would put [UNK] where an empty prefix here puts nothing");
        assertEquals(noMarker.resolve("artifact.metadata") + ": 'query_token_id' is empty; Stanford ColBERT puts a marker token there",
                empty.getMessage());
        Path l2 = stanfordCopy(Files.createDirectory(tmp.resolve("l2")), "{\"similarity\": \"l2\"}");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(l2).close());
        assertTrue(e.getMessage().contains("artifact.metadata") && e.getMessage().contains("'l2'"), e.getMessage());
    }
}
