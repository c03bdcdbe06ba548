package dev.rerank4j.tokenize;

import dev.rerank4j.Golden;
import dev.rerank4j.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tokenizers built from vocab.txt (BERT) or vocab.json and merges.txt (RoBERTa) give transformers' ids: eight layouts of
 * old repositories (tools/make_vocab_fixture.py), each on 164 single texts and pairs, at two lengths.
 */
class VocabFilesTest {
    private static final Map<String, Object> GOLDEN = dev.rerank4j.io.Json.parseObjectFile(resource("vocab-files.json"));

    @Test
    void idsEqualTransformersAutoTokenizerInEveryLayout() throws IOException {
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> cases = (Map<String, Map<String, Object>>) GOLDEN.get("cases");
        assertEquals(List.of("uncased", "cased", "decoder", "bare", "map", "roberta", "roberta-bare", "roberta-prefix"),
                List.copyOf(cases.keySet()));
        for (Map.Entry<String, Map<String, Object>> c : cases.entrySet()) {
            Path dir = resource("vocab-files/" + c.getKey());
            String modelType = (String) dev.rerank4j.io.Json.parseObjectFile(dir.resolve("config.json")).get("model_type");
            Tokenizer tokenizer = ModelTokenizer.load(dir, modelType).tokenizer();
            int checked = 0;
            for (Map<String, Object> r : Golden.list(c.getValue(), "encodings")) {
                int maxLength = ((Number) r.get("max_length")).intValue();
                Encoding e = r.containsKey("query")
                        ? tokenizer.encodePair((String) r.get("query"), (String) r.get("text"), maxLength)
                        : tokenizer.encode((String) r.get("text"), maxLength);
                String what = c.getKey() + ": " + r;
                assertArrayEquals(Golden.ints(r.get("input_ids")), e.ids(), what);
                if (r.containsKey("token_type_ids")) assertArrayEquals(Golden.ints(r.get("token_type_ids")), e.typeIds(), what);
                checked++;
            }
            assertEquals(164, checked, c.getKey());
        }
    }

    @Test
    void aSpecialTokenMissingFromTheVocabularyIsRefusedByName(@TempDir Path dir) throws IOException {
        copyCase("uncased", dir);
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"cls_token\": \"<cls>\"}");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> BertVocabFiles.load(dir, "bert"));
        assertTrue(e.getMessage().contains("cls_token \"<cls>\" is not in the vocabulary"), e.getMessage());
    }

    @Test
    void anotherTokenizerClassIsRefusedByName(@TempDir Path dir) throws IOException {
        copyCase("uncased", dir);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"XLMRobertaTokenizer\"}");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> BertVocabFiles.load(dir, "bert"));
        assertTrue(e.getMessage().contains("tokenizer_class \"XLMRobertaTokenizer\""), e.getMessage());
    }

    @Test
    void withoutATokenizerClassTheModelTypeDecides(@TempDir Path dir) throws IOException {
        copyCase("bare", dir);
        BertVocabFiles.load(dir, "electra");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> BertVocabFiles.load(dir, "xlm-roberta"));
        assertTrue(e.getMessage().contains("not 'xlm-roberta'"), e.getMessage());
    }

    @Test
    void vocabLinesAreReadAsTheTokenizersLibraryReadsThem(@TempDir Path dir) throws IOException {
        // lines end at \n only, trailing whitespace (a \r, a tab) is stripped, and a token listed twice keeps its last line
        Files.writeString(dir.resolve("vocab.txt"), "[PAD]\n[UNK]\r\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\t\nhello \r\nla\rst", StandardCharsets.UTF_8);
        Tokenizer tokenizer = BertVocabFiles.load(dir, "bert");
        assertArrayEquals(new int[] {2, 7, 6, 1, 3}, tokenizer.encode("hello world last", 16).ids());
    }

    private static Path resource(String relative) {
        try {
            return Path.of(VocabFilesTest.class.getResource("/tokenize/" + relative).toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void copyCase(String name, Path dir) throws IOException {
        try (var files = Files.list(resource("vocab-files/" + name))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
    }
}
