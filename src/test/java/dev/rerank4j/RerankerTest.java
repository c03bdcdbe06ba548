package dev.rerank4j;

import dev.rerank4j.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The facade's contract: clear errors for bad models and bad calls, order kept, safe under concurrency. */
class RerankerTest {
    @TempDir
    Path tmp;

    /**
     * Interpreted and C2-compiled Vector API code round exp and lane sums differently, so the first calls may
     * differ from later ones in the last bits; a shared-scratch race would be off by far more than this.
     */
    private static final float SAME_SCORE = 1e-5f;

    private static final List<String> DOCS = List.of("berlin has many museums", "paris is in france", "", "the wall fell in 1989");

    /** A copy of the tiny golden model whose config.json is edited by {@code edit}. */
    private Path modelWithConfig(java.util.function.Consumer<Map<String, Object>> edit) throws IOException {
        Path dir = tmp.resolve("model");
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(Golden.path("bert-tiny-ce"))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        Map<String, Object> config = Json.parseObject(Files.readString(dir.resolve("config.json")));
        edit.accept(config);
        Files.writeString(dir.resolve("config.json"), Json.write(config));
        return dir;
    }

    private static ModelFormatException loadFails(Path dir) {
        return assertThrows(ModelFormatException.class, () -> Reranker.load(dir).close());
    }

    /** An option the model would not use is refused at load, naming the option, rather than silently dropped. */
    @Test
    void optionsTheModelWouldIgnoreAreRefused() {
        IllegalArgumentException biSigmoid = assertThrows(IllegalArgumentException.class, () -> Reranker.load(
                Golden.path("bi-tiny-cls-dot"), Golden.options().withScoreFunction(Options.ScoreFunction.SIGMOID)));
        assertTrue(biSigmoid.getMessage().contains("a score function was chosen")
                && biSigmoid.getMessage().contains("is a bi-encoder, scored by the similarity its files name"), biSigmoid.getMessage());
        IllegalArgumentException colbertRaw = assertThrows(IllegalArgumentException.class, () -> Reranker.load(
                Golden.path("colbert-tiny"), Golden.options().withScoreFunction(Options.ScoreFunction.RAW)));
        assertTrue(colbertRaw.getMessage().contains("is a ColBERT model, scored by MaxSim"), colbertRaw.getMessage());
        IllegalArgumentException colbertLength = assertThrows(IllegalArgumentException.class, () -> Reranker.load(
                Golden.path("colbert-tiny"), Golden.options().withMaxLength(8)));
        assertTrue(colbertLength.getMessage().contains("a maxLength was given")
                && colbertLength.getMessage().contains("whose query and document lengths come from its own files"), colbertLength.getMessage());
        try (Reranker bi = Reranker.load(Golden.path("bi-tiny-cls-dot"), Golden.options().withMaxLength(16));
             Reranker colbert = Reranker.load(Golden.path("colbert-tiny"), Golden.options())) {
            assertEquals(16, bi.maxLength(), "a bi-encoder takes a limit");
            assertEquals(60, colbert.maxLength());
        }
    }

    @Test
    void rejectsAConfigWhoseHiddenSizeDisagreesWithTheWeights() throws IOException {
        ModelFormatException e = loadFails(modelWithConfig(c -> c.put("hidden_size", 64L)));
        assertTrue(e.getMessage().contains("word_embeddings") && e.getMessage().contains("64"), e.getMessage());
    }

    @Test
    void rejectsATokenizerWithMoreIdsThanTheEmbeddingTable() throws IOException {
        ModelFormatException e = loadFails(modelWithConfig(c -> c.put("vocab_size", 100L)));
        assertTrue(e.getMessage().contains("vocab_size is 100"), e.getMessage());
    }

    @Test
    void namesAMissingTensor() throws IOException {
        ModelFormatException e = loadFails(modelWithConfig(c -> c.put("num_hidden_layers", 3L)));
        assertTrue(e.getMessage().contains("missing tensor 'bert.encoder.layer.2.attention.self.query.weight'"), e.getMessage());
    }

    @Test
    void namesTheLineOfAModelFileThatIsNotUtf8() throws IOException {
        for (String name : List.of("config.json", "tokenizer.json")) {
            Path dir = modelWithConfig(c -> {});
            Path file = dir.resolve(name);
            byte[] bytes = ("\r\n" + Files.readString(file)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            bytes[2] = (byte) 0xE9; // "é" in Latin-1, where the JSON's "{" was
            Files.write(file, bytes);
            ModelFormatException e = loadFails(dir);
            assertTrue(e.getMessage().contains(name + ": not valid UTF-8 at line 2 (byte 2)"), e.getMessage());
            deleteRecursively(dir);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) Files.delete(f);
        }
        Files.delete(dir);
    }

    @Test
    void rejectsANegativeLayerNormEpsilon() throws IOException {
        ModelFormatException e = loadFails(modelWithConfig(c -> c.put("layer_norm_eps", -1e-12)));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("layer_norm_eps"), e.getMessage());
    }

    @Test
    void refusesAtLoadALimitTooSmallForTheSpecialTokens() throws IOException {
        Path dir = modelWithConfig(c -> {});
        Path tokenizerConfig = dir.resolve("tokenizer_config.json");
        Map<String, Object> edited = Json.parseObject(Files.readString(tokenizerConfig));
        edited.put("model_max_length", 2L);
        Files.writeString(tokenizerConfig, Json.write(edited));
        ModelFormatException e = loadFails(dir);
        assertTrue(e.getMessage().contains("model_max_length allows 2 tokens") && e.getMessage().contains("3 special tokens"),
                e.getMessage());

        IllegalArgumentException tooSmall = assertThrows(IllegalArgumentException.class,
                () -> Reranker.load(Golden.path("bert-tiny-ce"), Options.defaults().withMaxLength(2)).close());
        assertTrue(tooSmall.getMessage().contains("--max-length) allows 2 tokens"), tooSmall.getMessage());
        try (Reranker justRoom = Reranker.load(Golden.path("bert-tiny-ce"), Options.defaults().withMaxLength(3))) {
            assertEquals(DOCS.size(), justRoom.score("where is berlin", DOCS).length);
        }
    }

    /** A limit of 3.9 tokens is no limit sentence-transformers would run with; it was cut to 3 and every pair scored alike. */
    @Test
    void refusesALimitThatIsNotAWholeNumber() throws IOException {
        Path dir = modelWithConfig(c -> {});
        Path tokenizerConfig = dir.resolve("tokenizer_config.json");
        Map<String, Object> edited = Json.parseObject(Files.readString(tokenizerConfig));
        edited.put("model_max_length", 3.9);
        Files.writeString(tokenizerConfig, Json.write(edited));
        ModelFormatException e = loadFails(dir);
        assertTrue(e.getMessage().contains(tokenizerConfig + ": model_max_length must be a whole number of tokens, found 3.9"),
                e.getMessage());
        edited.put("model_max_length", 1e30); // transformers' "no limit"
        Files.writeString(tokenizerConfig, Json.write(edited));
        try (Reranker r = Reranker.load(dir, Options.defaults())) {
            assertEquals(64, r.maxLength(), "config.json's max_position_embeddings");
        }
    }

    @Test
    void rejectsAnUnknownArchitecture() throws IOException {
        ModelFormatException e = loadFails(modelWithConfig(c -> c.put("architectures", List.of("BertForMaskedLM"))));
        assertTrue(e.getMessage().contains("BertForMaskedLM"), e.getMessage());
    }

    @Test
    void rejectsAMissingFileAndADirectoryThatIsNotOne() throws IOException {
        Path dir = modelWithConfig(c -> {});
        Files.delete(dir.resolve("tokenizer.json"));
        assertTrue(loadFails(dir).getMessage().contains("missing tokenizer.json"));
        assertTrue(loadFails(tmp.resolve("nowhere")).getMessage().contains("not a directory"));
    }

    @Test
    void rejectsBadCallsWithMessagesThatNameTheProblem() {
        try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"))) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> reranker.score("q", List.of())).getMessage().contains("empty"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> reranker.score("q", Arrays.asList("a", null)))
                    .getMessage().contains("docs[1] is null"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> reranker.score(null, DOCS)).getMessage().contains("query"));
            assertThrows(IllegalArgumentException.class, () -> reranker.rank("q", DOCS, 0));
        }
        assertThrows(IllegalArgumentException.class, () -> Reranker.load(Golden.path("bert-tiny-ce"), Options.defaults().withMaxLength(65)));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Reranker.load(null)).getMessage().contains("dir"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Reranker.load(Golden.path("bert-tiny-ce"), null))
                .getMessage().contains("options"));
    }

    @Test
    void moreThreadsThanProcessorsRunOnePerProcessor() {
        int processors = Runtime.getRuntime().availableProcessors();
        float[] expected;
        try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"), Options.defaults().withBackend(Options.BackendChoice.CPU))) {
            expected = reranker.score("where is berlin", DOCS);
        }
        long before = cpuHelperThreads();
        try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"),
                Options.defaults().withBackend(Options.BackendChoice.CPU).withThreads(processors + 64))) {
            long started = cpuHelperThreads() - before;
            assertTrue(started <= processors - 1, started + " helper threads started for " + processors + " processors");
            float[] scores = reranker.score("where is berlin", DOCS);
            for (int i = 0; i < scores.length; i++) assertEquals(expected[i], scores[i], SAME_SCORE);
        }
    }

    private static long cpuHelperThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith("rerank4j-cpu-")).count();
    }

    @Test
    void refusesCallsAfterClose() {
        Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"));
        reranker.close();
        reranker.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> reranker.score("q", DOCS));
    }

    @Test
    void truncatesOverlongInputsAndSaysSo() {
        String longDoc = "berlin museum wall ".repeat(200);
        try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"))) {
            assertEquals(64, reranker.maxLength(), "max_position_embeddings of the tiny model");
            List<Ranked> ranked = reranker.rank("where is berlin", List.of("berlin", longDoc), 2);
            Ranked longOne = ranked.stream().filter(r -> r.index() == 1).findFirst().orElseThrow();
            assertTrue(longOne.truncated());
            assertTrue(ranked.stream().filter(r -> r.index() == 0).noneMatch(Ranked::truncated));
        }
    }

    /**
     * A log handler that closes the reranker when it warns of a truncation (the warning is logged after the call, not
     * inside it): the call returns, the reranker is closed, and nothing waits for itself.
     */
    @Test
    void aLogHandlerMayCloseTheRerankerItIsWarnedBy() {
        Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"));
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(Reranker.class.getName());
        java.util.logging.Handler closer = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getMessage().startsWith("truncated")) reranker.close();
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        log.addHandler(closer);
        try {
            float[] scores = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                    () -> reranker.score("where is berlin", List.of("berlin museum wall ".repeat(200))));
            assertEquals(1, scores.length);
        } finally {
            log.removeHandler(closer);
        }
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> reranker.score("q", List.of("d")));
        assertTrue(closed.getMessage().contains("is closed"), closed.getMessage());
    }

    /** A load whose thread is interrupted is a cancellation, not a damaged model file; the model then loads as before. */
    @Test
    void anInterruptedLoadIsACancellationNotABadFile() {
        Thread.currentThread().interrupt();
        try {
            java.util.concurrent.CancellationException e = assertThrows(java.util.concurrent.CancellationException.class,
                    () -> Reranker.load(Golden.path("bert-tiny-ce")));
            assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status is left set");
        } finally {
            Thread.interrupted();
        }
        try (Reranker r = Reranker.load(Golden.path("bert-tiny-ce"))) {
            assertEquals(DOCS.size(), r.score("where is berlin", DOCS).length);
        }
    }

    /**
     * Rerankers dropped without close() have their weights file unmapped once the GC finds them; one still held keeps
     * its mapping and scores as before, until it is closed.
     */
    @Test
    void aDroppedRerankerIsUnmappedByTheGcAndAHeldOneIsNot() throws Exception {
        Path maps = Path.of("/proc/self/maps");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(maps), "no /proc/self/maps here");
        Path dir = modelWithConfig(c -> {});
        String weights = dir.resolve("model.safetensors").toRealPath().toString();
        try (Reranker held = Reranker.load(dir)) {
            float[] before = held.score("where is berlin", DOCS);
            for (int i = 0; i < 10; i++) Reranker.load(dir).score("where is berlin", DOCS);
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (mappings(maps, weights) > 1 && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(50);
            }
            assertEquals(1, mappings(maps, weights), "mappings of " + weights + " besides the held reranker's");
            assertArrayEquals(before, held.score("where is berlin", DOCS));
        }
        assertEquals(0, mappings(maps, weights), "closed");
    }

    private static long mappings(Path maps, String file) throws IOException {
        return Files.readAllLines(maps).stream().filter(l -> l.endsWith(file)).count();
    }

    /** The WARNING messages {@code body} logs through Reranker's logger, formatted. */
    static List<String> warningsDuring(Runnable body) {
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(Reranker.class.getName());
        List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getLevel() == java.util.logging.Level.WARNING) {
                    warnings.add(java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        log.addHandler(handler);
        try {
            body.run();
        } finally {
            log.removeHandler(handler);
        }
        return warnings;
    }

    /** What the first call of a reranker that cuts adds to its line: later ones are DEBUG. */
    static final String FIRST_CUT = " (this reranker logs later cuts at DEBUG; Ranked.truncated() marks each document)";

    /**
     * The messages {@code body} logs through rerank4j's loggers at any level, formatted, after their JUL level
     * ({@code "WARNING: …"}, DEBUG as {@code "FINE: …"}).
     */
    static List<String> loggedDuring(Runnable body) {
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("dev.rerank4j");
        java.util.logging.Level before = log.getLevel();
        List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                lines.add(r.getLevel() + ": " + java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        log.setLevel(java.util.logging.Level.ALL);
        log.addHandler(handler);
        try {
            body.run();
        } finally {
            log.removeHandler(handler);
            log.setLevel(before);
        }
        return lines;
    }

    @Test
    void aLoadLogsOneLineThatNamesTheBackendAndWhyItWasChosen() {
        Reranker[] loaded = new Reranker[1];
        List<String> lines = loggedDuring(() -> loaded[0] = Reranker.load(Golden.path("bert-tiny-ce")));
        try (Reranker r = loaded[0]) {
            List<String> info = lines.stream().filter(l -> !l.startsWith("FINE")).toList();
            assertEquals(1, info.size(), info.toString());
            assertTrue(info.get(0).startsWith("INFO: loaded "), info.get(0));
            assertTrue(info.get(0).contains("backend " + r.backendName()) && info.get(0).contains("(AUTO"), info.get(0));
        }
    }

    @Test
    void onlyTheFirstCallThatCutsWarns() {
        String longDoc = "the museum island holds five museums ".repeat(40);
        String cut = "truncated 1 of 2 inputs to 64 tokens, as the model's reference implementation does";
        try (Reranker r = Reranker.load(Golden.path("bert-tiny-ce"))) {
            r.warmUp();
            assertEquals(List.of(), loggedDuring(() -> r.score("where is berlin", DOCS)));
            assertEquals(List.of("WARNING: " + cut + FIRST_CUT), loggedDuring(() -> r.score("where is berlin", List.of("berlin", longDoc))));
            assertEquals(List.of("FINE: " + cut), loggedDuring(() -> r.score("where is berlin", List.of(longDoc, "berlin"))));
        }
        try (Reranker other = Reranker.load(Golden.path("bert-tiny-ce"))) {
            assertEquals(List.of("WARNING: " + cut + FIRST_CUT), loggedDuring(() -> other.score("where is berlin", List.of("berlin", longDoc))),
                    "each reranker warns once");
        }
    }

    /** The tiny BERT as a sentence-transformers bi-encoder with mean pooling. */
    private Path biEncoder() throws IOException {
        return Golden.tinyBiEncoder(tmp.resolve("model"));
    }

    @Test
    void aQueryEncodedAloneAndCutSaysSo() throws IOException {
        String longQuery = "where is the museum island of berlin ".repeat(40);
        try (Reranker bi = Reranker.load(biEncoder())) {
            assertEquals(List.of(), loggedDuring(() -> bi.score("where is berlin", DOCS)));
            assertEquals(List.of("WARNING: truncated the query to 64 tokens, as the model's reference implementation does" + FIRST_CUT),
                    loggedDuring(() -> bi.score(longQuery, DOCS)));
        }
        try (Reranker colbert = Reranker.load(Golden.path("colbert-tiny"))) {
            assertEquals(List.of("WARNING: truncated the query to 32 tokens, as the model's reference implementation does" + FIRST_CUT),
                    loggedDuring(() -> colbert.score(longQuery, DOCS)));
            List<String> cut = new ArrayList<>();
            DocumentEmbeddings embeddings = colbert.encodeDocuments(DOCS);
            cut.addAll(loggedDuring(() -> colbert.encodeDocuments(List.of("short", longQuery))));
            cut.addAll(loggedDuring(() -> colbert.score(longQuery, embeddings, new int[] {0, 1})));
            assertEquals(List.of("FINE: truncated 1 of 2 inputs to 60 tokens, as the model's reference implementation does",
                    "FINE: truncated the query to 32 tokens, as the model's reference implementation does"), cut);
        }
    }

    /** {@code dir}'s tokenizer without its template: no [CLS] or [SEP], so an empty text has no tokens at all. */
    private static void dropTemplate(Path dir) throws IOException {
        Map<String, Object> tokenizer = Json.parseObject(Files.readString(dir.resolve("tokenizer.json")));
        tokenizer.put("post_processor", null);
        Files.writeString(dir.resolve("tokenizer.json"), Json.write(tokenizer));
    }

    @Test
    void textsOfNoTokensScoreZeroOrAreRefusedByName() throws IOException {
        Path bi = biEncoder();
        dropTemplate(bi);
        try (Reranker reranker = Reranker.load(bi)) {
            float[] scores = reranker.score("berlin", List.of("", "berlin wall", ""));
            assertEquals(0f, scores[0], "sentence-transformers' mean of no tokens is the zero vector");
            assertEquals(0f, scores[2]);
            assertTrue(scores[1] > 0.1f, "a real text still scores: " + scores[1]);
        }
        Path cross = tmp.resolve("cross");
        Files.createDirectories(cross);
        try (Stream<Path> files = Files.list(Golden.path("bert-tiny-ce"))) {
            for (Path f : files.toList()) Files.copy(f, cross.resolve(f.getFileName()));
        }
        dropTemplate(cross);
        try (Reranker reranker = Reranker.load(cross)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> reranker.score("", List.of("x", "")));
            assertTrue(e.getMessage().contains("(docs[1]) encode to no tokens"), e.getMessage());
        }
    }

    @Test
    void rankReturnsTopKWithTheCallersIndices() {
        try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"))) {
            float[] scores = reranker.score("berlin wall", DOCS);
            List<Ranked> top2 = reranker.rank("berlin wall", DOCS, 2);
            assertEquals(2, top2.size());
            Integer[] order = {0, 1, 2, 3};
            Arrays.sort(order, (a, b) -> Float.compare(scores[b], scores[a]));
            assertEquals(order[0], top2.get(0).index());
            assertEquals(order[1], top2.get(1).index());
            assertEquals(DOCS.size(), reranker.rank("berlin wall", DOCS, 99).size());
        }
    }

    /** A list another thread changes during the call: the results are of the texts scored, all of them. */
    @Test
    void rankReportsTheTextsItScoredEvenIfTheCallersListChanges() {
        List<String> changing = new java.util.AbstractList<>() {
            int reads;

            @Override
            public String get(int i) {
                return reads++ < DOCS.size() ? DOCS.get(i) : "changed after the call began";
            }

            @Override
            public int size() {
                return reads < DOCS.size() ? DOCS.size() : 1;
            }
        };
        try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"))) {
            float[] scores = reranker.score("berlin wall", DOCS);
            List<Ranked> ranked = reranker.rank("berlin wall", changing, 99);
            assertEquals(DOCS.size(), ranked.size());
            for (Ranked r : ranked) {
                assertEquals(DOCS.get(r.index()), r.text());
                assertEquals(scores[r.index()], r.score(), SAME_SCORE);
            }
        }
    }

    @Test
    void aNanScoreRanksLast() {
        List<Ranked> ranked = new ArrayList<>(List.of(new Ranked(0, Float.NaN, "a", false), new Ranked(1, -3f, "b", false),
                new Ranked(2, 5f, "c", false), new Ranked(3, 5f, "d", false), new Ranked(4, Float.NEGATIVE_INFINITY, "e", false)));
        ranked.sort(Ranked.BEST_FIRST);
        assertEquals(List.of(2, 3, 1, 4, 0), ranked.stream().map(Ranked::index).toList());
    }

    @Test
    void zeroAndNegativeZeroAreATieInTheCallersOrder() {
        List<Ranked> ranked = new ArrayList<>(List.of(new Ranked(0, 1f, "a", false), new Ranked(1, -0f, "b", false),
                new Ranked(2, 0f, "c", false), new Ranked(3, -0f, "d", false)));
        ranked.sort(Ranked.BEST_FIRST);
        assertEquals(List.of(0, 1, 2, 3), ranked.stream().map(Ranked::index).toList());
    }

    @Test
    void concurrentCallsGiveTheSameScoresAsSequentialOnes() throws Exception {
        try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"));
             ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<String> queries = List.of("berlin wall", "paris", "museums in berlin", "1989", "france", "");
            List<float[]> expected = new ArrayList<>();
            for (String q : queries) expected.add(reranker.score(q, DOCS));
            List<Future<float[]>> futures = new ArrayList<>();
            for (int round = 0; round < 20; round++) {
                for (String q : queries) futures.add(pool.submit(() -> reranker.score(q, DOCS)));
            }
            for (int i = 0; i < futures.size(); i++) {
                assertArrayEquals(expected.get(i % queries.size()), futures.get(i).get(), SAME_SCORE, "call " + i);
            }
        }
    }
}
