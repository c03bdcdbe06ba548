package dev.rerank4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A BERT cross-encoder saved without tokenizer.json (vocab.txt and its configuration files) loads and scores as with one. */
class VocabTxtModelTest {
    @Test
    void aModelWithOnlyVocabTxtScoresAsWithItsTokenizerJson(@TempDir Path dir) throws IOException, URISyntaxException {
        Path model = withoutTokenizerJson(dir);
        List<Map<String, Object>> pairs = Golden.list(Golden.json("bert-tiny-ce.json"), "pairs").stream()
                .filter(p -> ((Number) p.get("max_length")).intValue() == 64).toList();
        List<Pair> asked = pairs.stream().map(p -> new Pair((String) p.get("query"), (String) p.get("doc"))).toList();
        try (Reranker withJson = Reranker.load(Golden.path("bert-tiny-ce"), Golden.options());
             Reranker withVocab = Reranker.load(model, Golden.options())) {
            assertEquals(64, withVocab.maxLength());
            assertArrayEquals(withJson.score(asked), withVocab.score(asked));
            assertTrue(withVocab.description().get("tokenizer").startsWith("vocab.txt"), withVocab.description().toString());
            assertEquals("tokenizer.json", withJson.description().get("tokenizer"));
        }
    }

    @Test
    void aModelWithNeitherFileIsRefusedNamingBoth(@TempDir Path dir) throws IOException, URISyntaxException {
        Path model = withoutTokenizerJson(dir);
        Files.delete(model.resolve("vocab.txt"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains("missing tokenizer.json (or, for a BERT-family model, vocab.txt)"), e.getMessage());
        Files.writeString(model.resolve("vocab.json"), "{}");
        Files.writeString(model.resolve("merges.txt"), "#version: 0.2\n");
        e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains("its vocab.json and merges.txt (a RoBERTa or GPT-2 tokenizer saved without tokenizer.json) are not read"),
                e.getMessage());
    }

    /** bert-tiny-ce's config and weights with the vocab-txt fixture's classic BERT tokenizer files (the same vocabulary). */
    private static Path withoutTokenizerJson(Path dir) throws IOException, URISyntaxException {
        Path model = Files.createDirectories(dir.resolve("bert-tiny-ce-vocab"));
        for (String f : List.of("config.json", "model.safetensors")) Files.copy(Golden.path("bert-tiny-ce").resolve(f), model.resolve(f));
        Path uncased = Path.of(VocabTxtModelTest.class.getResource("/tokenize/vocab-txt/uncased").toURI());
        for (String f : List.of("vocab.txt", "tokenizer_config.json", "special_tokens_map.json")) {
            Files.copy(uncased.resolve(f), model.resolve(f));
        }
        return model;
    }
}
