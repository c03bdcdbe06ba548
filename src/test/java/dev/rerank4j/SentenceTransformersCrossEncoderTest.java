package dev.rerank4j;

import dev.rerank4j.tokenize.Encoding;
import dev.rerank4j.tokenize.PairTruncation;
import dev.rerank4j.tokenize.Tokenizer;
import dev.rerank4j.tokenize.TokenizerJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An XLM-R cross-encoder as sentence-transformers' CrossEncoder saves it (golden/xlmr-tiny-st, tools/make_golden.py): it
 * is run as CrossEncoder runs it, pairs cut longest first and scores through the Sigmoid its
 * config_sentence_transformers.json names, not as FlagEmbedding runs bge-reranker-* (the same weights without those files).
 */
class SentenceTransformersCrossEncoderTest {
    /** The fp32 bar. */
    private static final double TOLERANCE = 1e-4;
    private static final Map<String, Object> GOLDEN = Golden.json("xlmr-tiny-st.json");

    @TempDir
    Path dir;

    @Test
    void scoresAndCutsAsCrossEncoderPredict() throws IOException {
        Path model = savedBySentenceTransformers();
        Tokenizer tokenizer = TokenizerJson.load(model.resolve("tokenizer.json"));
        List<Map<String, Object>> pairs = Golden.list(GOLDEN, "pairs");
        boolean cutsDiffer = false;
        for (int maxLength : pairs.stream().mapToInt(p -> ((Number) p.get("max_length")).intValue()).distinct().toArray()) {
            try (Reranker byDefault = Reranker.load(model, Golden.options().withMaxLength(maxLength));
                 Reranker raw = Reranker.load(model, Golden.options().withMaxLength(maxLength).withScoreFunction(Options.ScoreFunction.RAW))) {
                assertEquals("longest first (sentence-transformers' CrossEncoder)", byDefault.description().get("pairs cut"));
                assertEquals("cross-encoder; score = sigmoid(logit)", byDefault.description().get("kind"));
                for (Map<String, Object> p : pairs) {
                    if (((Number) p.get("max_length")).intValue() != maxLength) continue;
                    String query = (String) p.get("query"), passage = (String) p.get("passage");
                    Encoding e = tokenizer.encodePair(query, passage, maxLength, PairTruncation.LONGEST_FIRST);
                    assertArrayEquals(Golden.ints(p.get("input_ids")), e.ids(), () -> "ids of " + p.get("id"));
                    cutsDiffer |= !java.util.Arrays.equals(e.ids(),
                            tokenizer.encodePair(query, passage, maxLength, PairTruncation.FIRST_CAPPED_THEN_SECOND).ids());
                    assertEquals(((Number) p.get("score")).doubleValue(), byDefault.score(query, List.of(passage))[0], TOLERANCE,
                            () -> "score of " + p.get("id"));
                    assertEquals(((Number) p.get("logit")).doubleValue(), raw.score(query, List.of(passage))[0], TOLERANCE,
                            () -> "logit of " + p.get("id"));
                }
            }
        }
        assertTrue(cutsDiffer, "some golden pair is cut differently by FlagEmbedding, so the test tells the two apart");
    }

    @Test
    void withoutSentenceTransformersFilesTheSameWeightsAreAFlagEmbeddingReranker() throws IOException {
        Path model = savedBySentenceTransformers();
        Files.delete(model.resolve("config_sentence_transformers.json"));
        try (Reranker reranker = Reranker.load(model, Golden.options())) {
            assertEquals("query to at most 3/4 of the length, then the passage (FlagEmbedding)", reranker.description().get("pairs cut"));
            assertEquals("cross-encoder; score = logit", reranker.description().get("kind"));
        }
    }

    @Test
    void sentenceTransformersFourNamesItsActivationInConfigJson() throws IOException {
        Path model = savedBySentenceTransformers();
        Files.delete(model.resolve("config_sentence_transformers.json"));
        String config = Files.readString(model.resolve("config.json"));
        Files.writeString(model.resolve("config.json"), config.replaceFirst("\\{",
                "{\"sentence_transformers\": {\"activation_fn\": \"torch.nn.modules.activation.Sigmoid\", \"version\": \"4.1.0\"},"));
        try (Reranker reranker = Reranker.load(model, Golden.options())) {
            assertEquals("longest first (sentence-transformers' CrossEncoder)", reranker.description().get("pairs cut"));
            assertEquals("cross-encoder; score = sigmoid(logit)", reranker.description().get("kind"));
        }
    }

    @Test
    void aVersionSixFileNamingNoActivationGetsItsDefaultSigmoid() throws IOException {
        Path model = savedBySentenceTransformers();
        Files.writeString(model.resolve("config_sentence_transformers.json"), "{\"model_type\": \"CrossEncoder\"}");
        try (Reranker reranker = Reranker.load(model, Golden.options())) {
            assertEquals("cross-encoder; score = sigmoid(logit)", reranker.description().get("kind"));
        }
    }

    /** A model_type that is no string (a damaged file) was read as "not sentence-transformers'", so scores became raw logits. */
    @Test
    void aModelTypeThatIsNoStringIsRefusedNotReadAsAnotherLibrarys() throws IOException {
        Path model = savedBySentenceTransformers();
        Path st = model.resolve("config_sentence_transformers.json");
        Files.writeString(st, "{\"model_type\": 3.0}");
        ModelFormatException e = org.junit.jupiter.api.Assertions.assertThrows(ModelFormatException.class,
                () -> Reranker.load(model, Golden.options()));
        assertEquals(st + ": field 'model_type' must be a string, found number", e.getMessage());
    }

    /**
     * An activation other than Sigmoid or Identity (a CrossEncoder saved with Tanh) would be scored as neither by
     * sentence-transformers: the default score is refused by name, and the caller's own choice of score still loads.
     */
    @Test
    void anActivationRerank4jDoesNotApplyIsRefusedUnlessTheCallerChoosesTheScore() throws IOException {
        Path model = savedBySentenceTransformers();
        Path st = model.resolve("config_sentence_transformers.json");
        Files.writeString(st, "{\"model_type\": \"CrossEncoder\", \"activation_fn\": \"torch.nn.modules.activation.Tanh\"}");
        ModelFormatException e = org.junit.jupiter.api.Assertions.assertThrows(ModelFormatException.class,
                () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().startsWith(st + ": the cross-encoder's activation torch.nn.modules.activation.Tanh is not one")
                && e.getMessage().contains("withScoreFunction"), e.getMessage());
        try (Reranker raw = Reranker.load(model, Golden.options().withScoreFunction(Options.ScoreFunction.RAW))) {
            assertEquals("cross-encoder; score = logit", raw.description().get("kind"));
        }
        Files.writeString(st, "{\"model_type\": \"CrossEncoder\", \"activation_fn\": \"torch.nn.modules.linear.Identity\"}");
        try (Reranker identity = Reranker.load(model, Golden.options())) {
            assertEquals("cross-encoder; score = logit", identity.description().get("kind"));
        }
        Files.delete(st);
        String config = Files.readString(model.resolve("config.json"));
        Files.writeString(model.resolve("config.json"), config.replaceFirst("\\{",
                "{\"sentence_transformers\": {\"activation_fn\": \"torch.nn.modules.activation.Softmax\", \"version\": \"4.1.0\"},"));
        ModelFormatException inConfig = org.junit.jupiter.api.Assertions.assertThrows(ModelFormatException.class,
                () -> Reranker.load(model, Golden.options()));
        assertTrue(inConfig.getMessage().startsWith(model.resolve("config.json") + ": the cross-encoder's activation"
                + " torch.nn.modules.activation.Softmax"), inConfig.getMessage());
    }

    /** The files sentence-transformers wrote, with the weights and tokenizer.json they were saved from. */
    private Path savedBySentenceTransformers() throws IOException {
        try (var files = Files.list(Golden.path("xlmr-tiny-st"))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        Files.copy(Golden.path("xlmr-tiny-ce/model.safetensors"), dir.resolve("model.safetensors"));
        Files.copy(Golden.path("xlmr-tiny-tokenizer/tokenizer.json"), dir.resolve("tokenizer.json"));
        return dir;
    }
}
