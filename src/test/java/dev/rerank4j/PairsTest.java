package dev.rerank4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Reranker#score(List)}: pairs of several queries in one call score as each query's own call scores them,
 * in the pairs' order, on every kind of model.
 */
class PairsTest {
    @TempDir
    Path tmp;

    /** Batches differ between the two calls; a row's arithmetic does not depend on its batch, so this is rounding only. */
    private static final float SAME_SCORE = 1e-6f;

    private static final List<String> QUERIES = List.of("where is berlin", "when did the wall fall", "museums in paris");
    private static final List<String> DOCS = List.of("berlin has many museums", "paris is in france", "the wall fell in 1989",
            "berlin is the capital of germany and its largest city by population", "louvre", "");

    /** Every query with every document, interleaved (q0 d0, q1 d0, q2 d0, q0 d1, …), then two repeats out of order. */
    private static List<Pair> pairs() {
        List<Pair> pairs = new ArrayList<>();
        for (String doc : DOCS) {
            for (String query : QUERIES) pairs.add(new Pair(query, doc));
        }
        pairs.add(new Pair(QUERIES.get(2), DOCS.get(0)));
        pairs.add(new Pair(QUERIES.get(0), DOCS.get(2)));
        return pairs;
    }

    private static void assertScoresAsOneQueryAtATime(Reranker reranker) {
        List<Pair> pairs = pairs();
        float[] scores = reranker.score(pairs);
        assertEquals(pairs.size(), scores.length);
        for (String query : QUERIES) {
            float[] alone = reranker.score(query, DOCS);
            for (int i = 0; i < pairs.size(); i++) {
                Pair p = pairs.get(i);
                if (p.query().equals(query)) {
                    assertEquals(alone[DOCS.indexOf(p.doc())], scores[i], SAME_SCORE, "pair " + i + ": " + p);
                }
            }
        }
        float spread = 0;
        for (float s : scores) spread = Math.max(spread, Math.abs(s - scores[0]));
        assertTrue(spread > 1e-3, "the pairs score differently, so a mix-up would show");
    }

    @Test
    void crossEncoderPairsScoreAsEachQuerysOwnCall() {
        try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"))) {
            assertScoresAsOneQueryAtATime(reranker);
        }
    }

    @Test
    void xlmRobertaPairsScoreAsEachQuerysOwnCall() throws IOException {
        Path dir = tmp.resolve("xlmr");
        Files.createDirectories(dir);
        for (String f : List.of("config.json", "model.safetensors")) Files.copy(Golden.path("xlmr-tiny-ce/" + f), dir.resolve(f));
        Files.copy(Golden.path("xlmr-tiny-tokenizer/tokenizer.json"), dir.resolve("tokenizer.json"));
        try (Reranker reranker = Reranker.load(dir)) {
            assertScoresAsOneQueryAtATime(reranker);
        }
    }

    @Test
    void biEncoderPairsScoreAsEachQuerysOwnCall() throws IOException {
        try (Reranker reranker = Reranker.load(biEncoder())) {
            assertScoresAsOneQueryAtATime(reranker);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3-tiny-reranker", "mxbai-v2-tiny"})
    void causalRerankerPairsScoreAsEachQuerysOwnCall(String name) {
        try (Reranker reranker = Reranker.load(Golden.path(name), Options.defaults().withScoreFunction(Options.ScoreFunction.RAW))) {
            assertScoresAsOneQueryAtATime(reranker);
        }
    }

    @Test
    void colbertPairsScoreAsEachQuerysOwnCall() {
        try (Reranker reranker = Reranker.load(Golden.path("colbert-tiny"))) {
            assertScoresAsOneQueryAtATime(reranker);
        }
    }

    @Test
    void saysHowManyQueriesAndInputsWereCut() throws IOException {
        String longQuery = "where is the museum island of berlin ".repeat(40);
        String longDoc = "the museum island holds five museums ".repeat(40);
        List<Pair> pairs = List.of(new Pair(longQuery, "berlin"), new Pair("short", longDoc), new Pair(longQuery + "?", "paris"),
                new Pair(longQuery, longDoc), new Pair("short", "paris"));
        String first = RerankerTest.FIRST_CUT;
        try (Reranker bi = Reranker.load(biEncoder())) {
            assertEquals(List.of("WARNING: truncated 2 of 3 queries to 64 tokens, as the model's reference implementation does" + first,
                    "WARNING: truncated 2 of 5 inputs to 64 tokens, as the model's reference implementation does" + first),
                    RerankerTest.loggedDuring(() -> bi.score(pairs)));
        }
        try (Reranker colbert = Reranker.load(Golden.path("colbert-tiny"))) {
            assertEquals(List.of("WARNING: truncated 2 of 3 queries to 32 tokens, as the model's reference implementation does" + first,
                    "WARNING: truncated 2 of 5 inputs to 60 tokens, as the model's reference implementation does" + first),
                    RerankerTest.loggedDuring(() -> colbert.score(pairs)));
        }
        try (Reranker cross = Reranker.load(Golden.path("bert-tiny-ce"))) {
            assertEquals(List.of("WARNING: truncated 4 of 5 inputs to 64 tokens, as the model's reference implementation does" + first),
                    RerankerTest.loggedDuring(() -> cross.score(pairs)));
        }
    }

    @Test
    void refusesBadPairsByIndex() {
        try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"))) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> reranker.score((List<Pair>) null)).getMessage().contains("pairs is null"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> reranker.score(List.<Pair>of())).getMessage().contains("empty"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> reranker.score(Arrays.asList(new Pair("q", "d"), null)))
                    .getMessage().contains("pairs[1] is null"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> reranker.score(List.of(new Pair("q", "d"), new Pair(null, "d"))))
                    .getMessage().contains("pairs[1].query is null"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> reranker.score(List.of(new Pair("q", null))))
                    .getMessage().contains("pairs[0].doc is null"));
            reranker.close();
            assertThrows(IllegalStateException.class, () -> reranker.score(List.of(new Pair("q", "d"))));
        }
    }

    private Path biEncoder() throws IOException {
        return Golden.tinyBiEncoder(tmp.resolve("bi"));
    }
}
