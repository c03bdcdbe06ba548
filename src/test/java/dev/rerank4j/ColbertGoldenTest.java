package dev.rerank4j;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
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

/** Reproduces PyLate's ColBERT encoding and MaxSim on a tiny random model (tools/make_golden.py --colbert-only). */
class ColbertGoldenTest {
    /** The brief's bar for fp32 embeddings and scores; observed differences are ~1e-6 (accumulation order). */
    private static final double EMBEDDING_TOLERANCE = 1e-4;
    private static final double SCORE_TOLERANCE = 1e-4;
    /** F16 keeps 11 significant bits: each unit-vector element moves ≤ 2⁻¹¹, a 32-term MaxSim sum by ≲ 32 · 16 · 2⁻¹². */
    private static final double F16_SCORE_TOLERANCE = 0.15;
    /**
     * Two calls each encode the query anew, and interpreted and C2-compiled Vector API code round exp
     * differently (see RerankerTest.SAME_SCORE): equal up to the last bits, not bit for bit.
     */
    private static final float SAME_SCORE = 1e-5f;

    private static final Map<String, Object> GOLDEN = Golden.json("colbert-tiny.json");
    private static final List<Map<String, Object>> QUERIES = Golden.list(GOLDEN, "queries");
    private static final List<Map<String, Object>> DOCS = Golden.list(GOLDEN, "documents");
    private static final List<String> DOC_TEXTS = DOCS.stream().map(d -> (String) d.get("text")).toList();

    private static Reranker reranker;
    private static Scorer.Colbert colbert;

    @BeforeAll
    static void load() {
        reranker = Reranker.load(Golden.path("colbert-tiny"), Golden.options().withBatchSize(7));
        colbert = (Scorer.Colbert) reranker.scorer();
    }

    @AfterAll
    static void close() {
        reranker.close();
    }

    @Test
    void readsLengthsAndPrefixesFromTheModelFiles() {
        Map<?, ?> model = (Map<?, ?>) GOLDEN.get("model");
        assertEquals(((Number) model.get("document_length")).intValue(), reranker.maxLength());
        assertEquals(((Number) model.get("query_length")).intValue(), colbert.model().settings().queryLength());
        assertEquals(((Number) model.get("dim")).intValue(), colbert.model().dimension());
        int[] skiplist = Golden.ints(model.get("skiplist_ids"));
        for (int id = 0; id < colbert.skip().length; id++) {
            final int i = id;
            assertEquals(IntStream.of(skiplist).anyMatch(s -> s == i), colbert.skip()[id], () -> "skiplist membership of id " + i);
        }
    }

    @Test
    void tokenIdsEqualPyLates() {
        for (Map<String, Object> q : QUERIES) {
            assertArrayEquals(Golden.ints(q.get("input_ids")), colbert.queryIds((String) q.get("text")), () -> "query " + q.get("text"));
        }
        assertTrue(DOCS.stream().anyMatch(d -> Golden.ints(d.get("input_ids")).length == reranker.maxLength()), "an over-long document");
        for (Map<String, Object> d : DOCS) {
            assertArrayEquals(Golden.ints(d.get("input_ids")), colbert.documentIds((String) d.get("text")), () -> "document " + d.get("text"));
        }
    }

    @Test
    void queryEmbeddingsMatchPyLateMaskPaddingIncluded() {
        double worst = 0;
        for (Map<String, Object> q : QUERIES) {
            float[] expected = flat(q.get("embeddings"));
            float[] actual = colbert.encodeQuery((String) q.get("text"));
            assertEquals(expected.length, actual.length, () -> "vector count of query " + q.get("text"));
            for (int i = 0; i < expected.length; i++) {
                worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
                final int at = i;
                assertEquals(expected[i], actual[i], EMBEDDING_TOLERANCE, () -> "query " + q.get("text") + " element " + at);
            }
        }
        System.out.printf("colbert-tiny: %d queries, max |Δ query embedding| = %.2e%n", QUERIES.size(), worst);
    }

    @Test
    void documentEmbeddingsMatchPyLateWithPunctuationDropped() {
        DocumentEmbeddings embeddings = reranker.encodeDocuments(DOC_TEXTS);
        assertEquals(DOCS.size(), embeddings.size());
        double worst = 0;
        for (int k = 0; k < DOCS.size(); k++) {
            float[] expected = flat(DOCS.get(k).get("embeddings"));
            float[] actual = embeddings.vectors(k);
            final int doc = k;
            assertEquals(Golden.ints(DOCS.get(k).get("kept")).length, embeddings.tokenCount(k), () -> "kept tokens of document " + doc);
            assertEquals(expected.length, actual.length);
            for (int i = 0; i < expected.length; i++) {
                worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
                assertEquals(expected[i], actual[i], EMBEDDING_TOLERANCE, () -> "document " + doc);
            }
        }
        System.out.printf("colbert-tiny: %d documents, max |Δ document embedding| = %.2e%n", DOCS.size(), worst);
    }

    @Test
    void maxSimScoresMatchPyLate() {
        List<?> rows = (List<?>) GOLDEN.get("scores");
        DocumentEmbeddings embeddings = reranker.encodeDocuments(DOC_TEXTS);
        int[] all = IntStream.range(0, DOCS.size()).toArray();
        double worst = 0;
        for (int a = 0; a < QUERIES.size(); a++) {
            String query = (String) QUERIES.get(a).get("text");
            float[] expected = flat(List.of(rows.get(a)));
            float[] direct = reranker.score(query, DOC_TEXTS);
            float[] stored = reranker.score(query, embeddings, all);
            for (int k = 0; k < expected.length; k++) {
                worst = Math.max(worst, Math.max(Math.abs(expected[k] - direct[k]), Math.abs(expected[k] - stored[k])));
                final int doc = k;
                assertEquals(expected[k], direct[k], SCORE_TOLERANCE, () -> "score of query " + query + " document " + doc);
                assertEquals(expected[k], stored[k], SCORE_TOLERANCE, () -> "stored score of query " + query + " document " + doc);
            }
        }
        System.out.printf("colbert-tiny: %d × %d scores, max |Δ score| = %.2e%n", QUERIES.size(), DOCS.size(), worst);
    }

    /**
     * encodeDocuments keeps its vectors in DocumentLayout and MaxSim reads them there: the same bits as scoring the texts
     * (which encodes them the same way) and as the saved and mapped file (F32, version 2), whose rows read back equal.
     */
    @Test
    void encodedDocumentsScoreInPlaceAsTheTextsAndAsTheirSavedFile(@TempDir Path tmp) throws IOException {
        DocumentEmbeddings embeddings = reranker.encodeDocuments(DOC_TEXTS);
        Path file = tmp.resolve("docs.safetensors");
        embeddings.save(file);
        DocumentEmbeddings loaded = DocumentEmbeddings.load(file);
        int[] all = IntStream.range(0, DOCS.size()).toArray();
        for (int k = 0; k < all.length; k++) assertArrayEquals(embeddings.vectors(k), loaded.vectors(k), "document " + k + " read back");
        for (Map<String, Object> q : QUERIES) {
            String query = (String) q.get("text");
            float[] inPlace = reranker.score(query, embeddings, all);
            assertArrayEquals(reranker.score(query, DOC_TEXTS), inPlace, "scored texts, query " + query);
            assertArrayEquals(inPlace, reranker.score(query, loaded, all), "the saved file, query " + query);
        }
    }

    @Test
    void candidateIdsPickDocumentsInTheGivenOrder() {
        DocumentEmbeddings embeddings = reranker.encodeDocuments(DOC_TEXTS);
        String query = (String) QUERIES.getFirst().get("text");
        float[] all = reranker.score(query, embeddings, IntStream.range(0, DOCS.size()).toArray());
        int[] picked = {41, 3, 3, 0, 49, 17};
        float[] some = reranker.score(query, embeddings, picked);
        for (int i = 0; i < picked.length; i++) assertEquals(all[picked[i]], some[i], SAME_SCORE);
        assertThrows(IllegalArgumentException.class, () -> reranker.score(query, embeddings, new int[] {DOCS.size()}));
    }

    @Test
    void savedEmbeddingsReloadBitIdenticallyAndScoreTheSame(@TempDir Path tmp) throws IOException {
        DocumentEmbeddings embeddings = reranker.encodeDocuments(DOC_TEXTS);
        Path file = tmp.resolve("docs.safetensors");
        embeddings.save(file);
        DocumentEmbeddings loaded = DocumentEmbeddings.load(file);
        assertEquals(embeddings.fingerprint(), loaded.fingerprint());
        assertEquals(embeddings.dim(), loaded.dim());
        assertEquals(embeddings.size(), loaded.size());
        for (int k = 0; k < embeddings.size(); k++) {
            float[] a = embeddings.vectors(k), b = loaded.vectors(k);
            assertEquals(a.length, b.length);
            for (int i = 0; i < a.length; i++) assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]));
        }
        int[] all = IntStream.range(0, DOCS.size()).toArray();
        for (Map<String, Object> q : QUERIES.subList(0, 5)) {
            float[] query = colbert.encodeQuery((String) q.get("text"));
            float[] before = new float[all.length], after = new float[all.length];
            embeddings.maxSim(colbert.model().backend(), query, query.length / embeddings.dim(), all, before);
            loaded.maxSim(colbert.model().backend(), query, query.length / loaded.dim(), all, after);
            assertArrayEquals(before, after, "same query vectors, reloaded documents: identical scores");
            assertArrayEquals(reranker.score((String) q.get("text"), embeddings, all),
                    reranker.score((String) q.get("text"), loaded, all), SAME_SCORE);
        }
        Path half = tmp.resolve("docs-f16.safetensors");
        embeddings.save(half, true);
        assertTrue(Files.size(half) < Files.size(file) * 0.6, "F16 file is about half the size");
        DocumentEmbeddings halfLoaded = DocumentEmbeddings.load(half);
        String query = (String) QUERIES.getFirst().get("text");
        float[] exact = reranker.score(query, embeddings, all);
        float[] approx = reranker.score(query, halfLoaded, all);
        for (int k = 0; k < all.length; k++) assertEquals(exact[k], approx[k], F16_SCORE_TOLERANCE);
    }

    @Test
    void refusesEmbeddingsOfAnotherModelAndBrokenFiles(@TempDir Path tmp) throws IOException {
        DocumentEmbeddings embeddings = reranker.encodeDocuments(DOC_TEXTS.subList(0, 3));
        DocumentEmbeddings foreign = withFingerprint(embeddings, "colbert-d16-0000000000000000");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> reranker.score("q", foreign, new int[] {0}));
        assertTrue(e.getMessage().contains("another model"), e.getMessage());
        float[] wide = new float[(int) embeddings.totalTokens() * 8];
        DocumentEmbeddings otherDim = DocumentEmbeddings.of(wide, offsets(embeddings), 8, "colbert-d8-0000000000000000");
        e = assertThrows(IllegalArgumentException.class, () -> reranker.score("q", otherDim, new int[] {0}));
        assertTrue(e.getMessage().contains("dim 8"), e.getMessage());
        DocumentEmbeddings spoofedDim = DocumentEmbeddings.of(wide, offsets(embeddings), 8, embeddings.fingerprint());
        e = assertThrows(IllegalArgumentException.class, () -> reranker.score("q", spoofedDim, new int[] {0}));
        assertTrue(e.getMessage().contains("dim 8"), e.getMessage());

        Path file = tmp.resolve("docs.safetensors");
        embeddings.save(file);
        byte[] bytes = Files.readAllBytes(file);
        Path truncated = tmp.resolve("truncated.safetensors");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 9));
        ModelFormatException m = assertThrows(ModelFormatException.class, () -> DocumentEmbeddings.load(truncated));
        assertTrue(m.getMessage().contains("truncated.safetensors"), m.getMessage());
        Path header = tmp.resolve("header-only.safetensors");
        Files.write(header, java.util.Arrays.copyOf(bytes, 20));
        assertThrows(ModelFormatException.class, () -> DocumentEmbeddings.load(header));
        Path hostileCount = tmp.resolve("hostile-count.safetensors");
        Files.write(hostileCount, withHeader(bytes, h -> h.replace("\"documents\": \"3\"", "\"documents\": \"2147483647\"")));
        m = assertThrows(ModelFormatException.class, () -> DocumentEmbeddings.load(hostileCount));
        assertTrue(m.getMessage().contains("2147483647"), m.getMessage());
        ModelFormatException notOurs = assertThrows(ModelFormatException.class,
                () -> DocumentEmbeddings.load(Golden.path("colbert-tiny/1_Dense/model.safetensors")));
        assertTrue(notOurs.getMessage().contains("format"), notOurs.getMessage());
    }

    /** A dim read from a file is trusted only as far as the file backs it: one empty document of dim 2^28 loads, no 8 GB table. */
    @Test
    void aHugeDimWithoutVectorsLoadsWithoutAllocatingForIt(@TempDir Path tmp) throws IOException {
        for (int dim : new int[] {1 << 28, Integer.MAX_VALUE}) {
            Path file = tmp.resolve("huge-dim-" + dim + ".safetensors");
            DocumentEmbeddings.of(new float[0], new long[] {0, 0}, dim, "colbert-huge").save(file);
            DocumentEmbeddings loaded = DocumentEmbeddings.load(file);
            assertEquals(dim, loaded.dim());
            assertEquals(0, loaded.totalTokens());
        }
    }

    /** A save that fails part-way (here, interrupted) leaves the file it was replacing as it was, and nothing beside it. */
    @Test
    void aFailedSaveKeepsTheOldFile(@TempDir Path tmp) throws IOException {
        DocumentEmbeddings embeddings = reranker.encodeDocuments(DOC_TEXTS.subList(0, 3));
        Path file = tmp.resolve("docs.safetensors");
        embeddings.save(file);
        byte[] good = Files.readAllBytes(file);
        DocumentEmbeddings more = reranker.encodeDocuments(DOC_TEXTS);
        Thread.currentThread().interrupt();
        try {
            assertThrows(IOException.class, () -> more.save(file));
        } finally {
            Thread.interrupted();
        }
        assertArrayEquals(good, Files.readAllBytes(file));
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    /**
     * A post-processor may add special tokens past the tokenizer's vocabulary (but inside the model's): their document
     * vectors are kept, as no skiplist word is one of them (the skiplist's table, sized by the vocabulary, was indexed by
     * them and threw).
     */
    @Test
    @SuppressWarnings("unchecked")
    void specialTokensPastTheTokenizersVocabularyAreKeptNotOutOfBounds(@TempDir Path tmp) throws IOException {
        Path model = Files.createDirectories(tmp.resolve("colbert"));
        try (var files = Files.walk(Golden.path("colbert-tiny"))) {
            for (Path f : files.toList()) {
                Path to = model.resolve(Golden.path("colbert-tiny").relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(to); else Files.copy(f, to);
            }
        }
        Map<String, Object> tokenizer = dev.rerank4j.io.Json.parseObjectFile(model.resolve("tokenizer.json"));
        Map<String, Object> vocab = (Map<String, Object>) ((Map<String, Object>) tokenizer.get("model")).get("vocab");
        vocab.values().removeIf(id -> ((Number) id).intValue() >= 1100); // config.json's vocab_size stays 1200
        Map<String, Object> sep = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) tokenizer.get("post_processor"))
                .get("special_tokens")).get("[SEP]");
        sep.put("ids", List.of(1150));
        Files.writeString(model.resolve("tokenizer.json"), dev.rerank4j.io.Json.write(tokenizer));
        try (Reranker r = Reranker.load(model, Golden.options())) {
            DocumentEmbeddings d = r.encodeDocuments(DOC_TEXTS.subList(0, 2));
            float[] scores = r.score("what is the capital of france?", d, new int[] {0, 1});
            assertEquals(2, scores.length);
            assertTrue(Float.isFinite(scores[0]) && Float.isFinite(scores[1]), java.util.Arrays.toString(scores));
        }
    }

    @Test
    void documentEmbeddingsNeedAColbertModel() {
        try (Reranker ce = Reranker.load(Golden.path("bert-tiny-ce"))) {
            assertThrows(UnsupportedOperationException.class, () -> ce.encodeDocuments(List.of("x")));
        }
    }

    /** A safetensors file with its JSON header rewritten by {@code edit} (the header must change). */
    private static byte[] withHeader(byte[] file, java.util.function.UnaryOperator<String> edit) {
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(file).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int length = (int) in.getLong(0);
        String header = new String(file, 8, length, java.nio.charset.StandardCharsets.UTF_8);
        byte[] edited = edit.apply(header).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(!header.equals(new String(edited, java.nio.charset.StandardCharsets.UTF_8)), header);
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(8 + edited.length + file.length - 8 - length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        out.putLong(edited.length).put(edited).put(file, 8 + length, file.length - 8 - length);
        return out.array();
    }

    private static float[] flat(Object nested) {
        List<?> rows = (List<?>) nested;
        return rows.stream().flatMap(r -> ((List<?>) r).stream())
                .map(v -> ((Number) v).floatValue())
                .collect(() -> new float[1][0], (acc, v) -> {
                    acc[0] = java.util.Arrays.copyOf(acc[0], acc[0].length + 1);
                    acc[0][acc[0].length - 1] = v;
                }, (a, b) -> {}) [0];
    }

    /** Document k's offsets, rows {@code offsets[k]} to {@code offsets[k+1]}. */
    private static long[] offsets(DocumentEmbeddings d) {
        long[] offsets = new long[d.size() + 1];
        for (int k = 0; k < d.size(); k++) offsets[k + 1] = offsets[k] + d.tokenCount(k);
        return offsets;
    }

    /** The same vectors under another fingerprint. */
    private static DocumentEmbeddings withFingerprint(DocumentEmbeddings d, String fingerprint) {
        float[] rows = new float[(int) d.totalTokens() * d.dim()];
        for (int k = 0, at = 0; k < d.size(); at += d.tokenCount(k) * d.dim(), k++) System.arraycopy(d.vectors(k), 0, rows, at, d.tokenCount(k) * d.dim());
        return DocumentEmbeddings.of(rows, offsets(d), d.dim(), fingerprint);
    }
}
