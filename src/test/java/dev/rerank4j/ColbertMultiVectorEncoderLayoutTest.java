package dev.rerank4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * colbert-tiny as sentence-transformers 6's MultiVectorEncoder saves it (golden/colbert-tiny-st6, tools/make_golden.py):
 * the same settings read from the new files, so the same scores as PyLate's layout, and what rerank4j would not run
 * faithfully refused by name.
 */
class ColbertMultiVectorEncoderLayoutTest {
    /** As ColbertGoldenTest's score bar against PyLate. */
    private static final double SCORE_TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    @Test
    void scoresAsPyLatesLayoutAndThePyLateGoldenFile() throws IOException {
        Map<String, Object> golden = Golden.json("colbert-tiny.json");
        List<String> docs = Golden.list(golden, "documents").stream().map(d -> (String) d.get("text")).toList();
        List<Map<String, Object>> queries = Golden.list(golden, "queries");
        List<?> scores = (List<?>) golden.get("scores");
        try (Reranker st6 = Reranker.load(layout(), Golden.options()); Reranker pylate = Reranker.load(Golden.path("colbert-tiny"), Golden.options())) {
            assertEquals(pylate.description().get("max length"), st6.description().get("max length"));
            for (int i = 0; i < queries.size(); i++) {
                String query = (String) queries.get(i).get("text");
                float[] got = st6.score(query, docs);
                assertArrayEquals(pylate.score(query, docs), got, "query " + query);
                List<?> expected = (List<?>) scores.get(i);
                for (int k = 0; k < docs.size(); k++) {
                    assertEquals(((Number) expected.get(k)).doubleValue(), got[k], SCORE_TOLERANCE, "query " + i + " document " + k);
                }
            }
            // embeddings stored by one layout belong to the other: the same projection and document settings
            DocumentEmbeddings stored = pylate.encodeDocuments(docs);
            assertArrayEquals(pylate.score("berlin", stored, new int[] {0, 1, 2}), st6.score("berlin", stored, new int[] {0, 1, 2}));
        }
    }

    @Test
    void anotherQueryExpansionIsRefused() throws IOException {
        Path model = layout();
        String config = Files.readString(model.resolve("sentence_bert_config.json"));
        Files.writeString(model.resolve("sentence_bert_config.json"), config.replace("\"fixed\"", "\"min\""));
        assertRefused(model, "query_expansion");
    }

    @Test
    void aSkiplistOnQueriesIsRefused() throws IOException {
        Path model = layout();
        Path mask = model.resolve("2_MultiVectorMask/config.json");
        Files.writeString(mask, Files.readString(mask).replace("\"document\"", "\"document\", \"query\""));
        assertRefused(model, "skiplist to documents only");
    }

    @Test
    void aPromptThatIsNotATokenMatchedInTheTextIsRefused() throws IOException {
        Path model = layout();
        Path st = model.resolve("config_sentence_transformers.json");
        // in the vocabulary but not an added token: prepended to the text it is split into pieces
        Files.writeString(st, Files.readString(st).replace("\"[unused0]\"", "\"berlin\""));
        assertRefused(model, model.resolve("tokenizer.json") + ": the ColBERT query prompt 'berlin' is not one token when put before the text");
    }

    /** The tokenizer's errors name its file, as every other load error names one. */
    @Test
    void aPromptOrMaskTheTokenizerLacksIsRefusedNamingTheTokenizerFile() throws IOException {
        Path model = layout();
        Path st = model.resolve("config_sentence_transformers.json");
        Files.writeString(st, Files.readString(st).replace("\"[unused0]\"", "\"[no such token]\""));
        assertRefused(model, model.resolve("tokenizer.json") + ": the ColBERT query prefix '[no such token]' is not a token");
        Path masked = layout();
        Path config = masked.resolve("tokenizer_config.json");
        Files.writeString(config, Files.readString(config).replace("\"[MASK]\"", "\"[no mask]\""));
        assertRefused(masked, masked.resolve("tokenizer.json") + ": the tokenizer has no mask token '[no mask]'");
    }

    /**
     * Queries padded to query_expansion.length, or documents cut at document_length, past config.json's 128 positions loaded,
     * and the first call failed with an IllegalArgumentException about its own arguments. So did PyLate's layout.
     */
    @Test
    void lengthsPastThePositionTableAreRefusedAtLoadNamingTheFile() throws IOException {
        for (String[] c : new String[][] {{"\"length\": 32", "\"length\": 129", "'query_expansion.length' 129"},
                {"\"document_length\": 60", "\"document_length\": 1000", "'document_length' 1000"}}) {
            Path model = layout();
            Path config = model.resolve("sentence_bert_config.json");
            Files.writeString(config, Files.readString(config).replace(c[0], c[1]));
            assertRefused(model, config + ": " + c[2] + " is more than the model's maximum input of 128 tokens");
        }
        Path pylate = tmp.resolve("pylate");
        try (Stream<Path> files = Files.walk(Golden.path("colbert-tiny"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path target = pylate.resolve(Golden.path("colbert-tiny").relativize(f).toString());
                Files.createDirectories(target.getParent());
                Files.copy(f, target);
            }
        }
        Path st = pylate.resolve("config_sentence_transformers.json");
        Files.writeString(st, Files.readString(st).replace("\"query_length\": 32", "\"query_length\": 129"));
        assertRefused(pylate, st + ": 'query_length' 129 is more than the model's maximum input of 128 tokens");
    }

    /**
     * A module's path in modules.json that is no path threw InvalidPathException (an IllegalArgumentException naming no file),
     * and one outside the model directory was read from there.
     */
    @Test
    void modulePathsThatAreNoFolderInsideTheModelAreRefusedNamingModulesJson() throws IOException {
        for (String module : List.of("1_Dense", "2_MultiVectorMask")) {
            for (String path : List.of("a\\u0000b", "../" + module, "/")) {
                Path model = layout();
                Path modules = model.resolve("modules.json");
                Files.writeString(modules, Files.readString(modules).replace("\"" + module + "\"", "\"" + path + "\""));
                assertRefused(model, modules + ": the " + module.substring(2) + " module's path ");
            }
        }
    }

    private static void assertRefused(Path model, String message) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    /** The files sentence-transformers 6 wrote, with colbert-tiny's encoder weights. */
    private Path layout() throws IOException {
        Path from = Golden.path("colbert-tiny-st6");
        Path dir = tmp.resolve("st6-" + System.nanoTime());
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path target = dir.resolve(from.relativize(f).toString());
                Files.createDirectories(target.getParent());
                Files.copy(f, target);
            }
        }
        Files.copy(Golden.path("colbert-tiny/model.safetensors"), dir.resolve("model.safetensors"));
        return dir;
    }
}
