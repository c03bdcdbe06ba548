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
        assertTrue(e.getMessage().contains("missing tokenizer.json (or vocab.txt for a BERT-family model, vocab.json and merges.txt for RoBERTa)"),
                e.getMessage());
        Files.writeString(model.resolve("sentencepiece.bpe.model"), "");
        e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains("its SentencePiece model is not read"), e.getMessage());
    }

    @Test
    void aRobertaModelWithVocabJsonAndMergesScoresAsWithItsTokenizerJson(@TempDir Path dir) throws IOException, URISyntaxException {
        Path withJson = Files.createDirectories(dir.resolve("json")), withFiles = Files.createDirectories(dir.resolve("files"));
        for (Path model : List.of(withJson, withFiles)) {
            try (var files = Files.list(Golden.path("roberta-tiny-st"))) {
                for (Path f : files.toList()) Files.copy(f, model.resolve(f.getFileName()));
            }
            Files.copy(Golden.path("xlmr-tiny-ce/model.safetensors"), model.resolve("model.safetensors"));
        }
        Files.copy(Golden.path("roberta-bpe-tokenizer/tokenizer.json"), withJson.resolve("tokenizer.json"));
        // roberta-base's tokenizer files (the saved tokenizer_config.json names the class that writes tokenizer.json)
        Path layout = Path.of(VocabTxtModelTest.class.getResource("/tokenize/vocab-files/roberta").toURI());
        for (String f : List.of("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json")) {
            Files.copy(layout.resolve(f), withFiles.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        List<Pair> pairs = Golden.list(Golden.json("roberta-tiny-st.json"), "pairs").stream()
                .map(p -> new Pair((String) p.get("query"), (String) p.get("doc"))).toList();
        try (Reranker a = Reranker.load(withJson, Golden.options()); Reranker b = Reranker.load(withFiles, Golden.options())) {
            assertArrayEquals(a.score(pairs), b.score(pairs));
            assertTrue(b.description().get("tokenizer").startsWith("vocab.json and merges.txt"), b.description().toString());
        }
    }

    /** bert-tiny-ce's config and weights with the vocab-files fixture's classic BERT tokenizer files (the same vocabulary). */
    private static Path withoutTokenizerJson(Path dir) throws IOException, URISyntaxException {
        Path model = Files.createDirectories(dir.resolve("bert-tiny-ce-vocab"));
        for (String f : List.of("config.json", "model.safetensors")) Files.copy(Golden.path("bert-tiny-ce").resolve(f), model.resolve(f));
        Path uncased = Path.of(VocabTxtModelTest.class.getResource("/tokenize/vocab-files/uncased").toURI());
        for (String f : List.of("vocab.txt", "tokenizer_config.json", "special_tokens_map.json")) {
            Files.copy(uncased.resolve(f), model.resolve(f));
        }
        return model;
    }
}
