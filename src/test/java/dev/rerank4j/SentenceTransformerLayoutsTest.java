package dev.rerank4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bi-encoders in the layouts sentence-transformers writes: version 6's (the files it wrote for all-MiniLM-L6-v2 on
 * 2026-12-05, copied below) scores as version ≤ 5's, and pipelines rerank4j would not run faithfully are refused by name.
 */
class SentenceTransformerLayoutsTest {
    /** sentence-transformers 6.2's modules.json for Transformer → Pooling → Normalize. */
    private static final String MODULES_6 = """
            [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
             {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
             {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.base.modules.normalize.Normalize"}]""";
    private static final String POOLING_6 = "{\"embedding_dimension\": 32, \"pooling_mode\": \"mean\", \"include_prompt\": true}";
    private static final List<String> DOCS = List.of("Berlin has 3.7 million inhabitants.", "Paris is the capital of France.", "");

    @TempDir
    Path tmp;

    @Test
    void sentenceTransformersSixLayoutScoresAsTheOlderOne() throws IOException {
        Path older = Golden.tinyBiEncoder(tmp.resolve("older"));
        Path six = sixLayout(tmp.resolve("six"));
        try (Reranker a = Reranker.load(older, Golden.options()); Reranker b = Reranker.load(six, Golden.options())) {
            assertArrayEquals(a.score("how many people live in berlin?", DOCS), b.score("how many people live in berlin?", DOCS));
        }
    }

    @Test
    void aPoolingConfigWithoutModesIsMeanPoolingAsSentenceTransformersReadsIt() throws IOException {
        Path six = sixLayout(tmp.resolve("six"));
        Files.writeString(six.resolve("1_Pooling/config.json"), "{\"embedding_dimension\": 32}");
        try (Reranker r = Reranker.load(six, Golden.options())) {
            r.score("berlin", DOCS);
        }
    }

    @Test
    void otherPoolingIsRefused() throws IOException {
        Path six = sixLayout(tmp.resolve("six"));
        Files.writeString(six.resolve("1_Pooling/config.json"), "{\"embedding_dimension\": 32, \"pooling_mode\": \"max\"}");
        assertRefused(six, "pooling [max] is not supported");
        Files.writeString(six.resolve("1_Pooling/config.json"), "{\"embedding_dimension\": 32, \"pooling_mode\": \"mean\", \"include_prompt\": false}");
        assertRefused(six, "include_prompt false is not supported");
        Path older = Golden.tinyBiEncoder(tmp.resolve("older"));
        Files.writeString(older.resolve("1_Pooling/config.json"),
                "{\"word_embedding_dimension\": 32, \"pooling_mode_mean_tokens\": true, \"pooling_mode_cls_token\": true}");
        assertRefused(older, "pooling [cls, mean] is not supported");
    }

    @Test
    void aModuleRerank4jDoesNotRunIsRefusedRatherThanSkipped() throws IOException {
        Path six = sixLayout(tmp.resolve("six"));
        Files.writeString(six.resolve("modules.json"), MODULES_6.replace("]", ",\n {\"idx\": 3, \"name\": \"3\", \"path\": \"3_Dense\","
                + " \"type\": \"sentence_transformers.base.modules.dense.Dense\"}]"));
        assertRefused(six, "module \"3\" of type sentence_transformers.base.modules.dense.Dense is not supported");
    }

    @Test
    void theDotProductOfNormalisedEmbeddingsIsTheCosineAndOtherSimilaritiesAreRefused() throws IOException {
        Path six = sixLayout(tmp.resolve("six"));
        float[] cosine;
        try (Reranker r = Reranker.load(six, Golden.options())) {
            cosine = r.score("berlin", DOCS);
        }
        Files.writeString(six.resolve("config_sentence_transformers.json"), "{\"model_type\": \"SentenceTransformer\", \"similarity_fn_name\": \"dot\"}");
        try (Reranker withNormalize = Reranker.load(six, Golden.options())) {
            assertArrayEquals(cosine, withNormalize.score("berlin", DOCS));
        }
        Files.writeString(six.resolve("config_sentence_transformers.json"), "{\"similarity_fn_name\": \"euclidean\"}");
        assertRefused(six, "similarity_fn_name \"euclidean\" is not supported");
    }

    /** A prompt is text put before the query or the document: scoring a prompted model equals scoring the prompted texts. */
    @Test
    void promptsArePutBeforeQueriesAndDocuments() throws IOException {
        Path six = sixLayout(tmp.resolve("six"));
        float[] prompted;
        try (Reranker plain = Reranker.load(six, Golden.options())) {
            prompted = plain.score("query: berlin", DOCS.stream().map(d -> "passage: " + d).toList());
        }
        Files.writeString(six.resolve("config_sentence_transformers.json"), "{\"model_type\": \"SentenceTransformer\", "
                + "\"prompts\": {\"query\": \"query: \", \"document\": \"passage: \"}, \"default_prompt_name\": \"query\"}");
        try (Reranker r = Reranker.load(six, Golden.options())) {
            assertArrayEquals(prompted, r.score("berlin", DOCS));
            assertTrue(r.description().get("kind").endsWith("; query prompt \"query: \"; document prompt \"passage: \""), r.description().get("kind"));
        }
    }

    @Test
    void aLegacyPoolingKeySetToOneCountsAsSetAsInPython() throws IOException {
        Path older = Golden.tinyBiEncoder(tmp.resolve("older"));
        Files.writeString(older.resolve("1_Pooling/config.json"),
                "{\"word_embedding_dimension\": 32, \"pooling_mode_mean_tokens\": true, \"pooling_mode_max_tokens\": 1}");
        assertRefused(older, "pooling [max, mean] is not supported");
    }

    /** A file a module names can be anything: a device, a pipe or a folder is refused by name, never read. */
    @Test
    void aModuleFileThatIsNotARegularFileIsRefusedUnread() throws Exception {
        Path six = sixLayout(tmp.resolve("six"));
        Path pooling = six.resolve("1_Pooling/config.json");
        Files.delete(pooling);
        Files.createSymbolicLink(pooling, Path.of("/dev/zero")); // read whole, it filled the heap
        assertRefused(six, pooling + ": not a regular file (a directory, device or pipe)");
        Files.delete(pooling);
        Files.createDirectory(pooling);
        assertRefused(six, pooling + ": not a regular file");
        Files.delete(pooling);
        Process mkfifo = new ProcessBuilder("mkfifo", pooling.toString()).start(); // read, a pipe with no writer blocked the load
        org.junit.jupiter.api.Assumptions.assumeTrue(mkfifo.waitFor() == 0, "no mkfifo here");
        assertRefused(six, pooling + ": not a regular file");
    }

    /**
     * sentence_bert_config.json's max_seq_length cuts texts; one that is no number of tokens (a string, 0) was skipped, and
     * the tokenizer's model_max_length cut them instead, where sentence-transformers would not have run.
     */
    @Test
    void aMaxSeqLengthThatIsNoNumberOfTokensIsRefusedNotSkipped() throws IOException {
        Path six = sixLayout(tmp.resolve("six"));
        Path config = six.resolve("sentence_bert_config.json");
        Files.writeString(config, "{\"max_seq_length\": 16}");
        try (Reranker r = Reranker.load(six, Golden.options())) {
            org.junit.jupiter.api.Assertions.assertEquals(16, r.maxLength());
        }
        for (String value : List.of("\"16\"", "0", "-1", "true", "[16]")) {
            Files.writeString(config, "{\"max_seq_length\": " + value + "}");
            assertRefused(six, config + ": max_seq_length must be ");
        }
        Files.writeString(config, "{\"max_seq_length\": null}"); // sentence-transformers: the tokenizer's limit
        try (Reranker r = Reranker.load(six, Golden.options())) {
            org.junit.jupiter.api.Assertions.assertEquals(64, r.maxLength());
        }
    }

    /** A Pooling path that is no path threw InvalidPathException (an IllegalArgumentException naming no file). */
    @Test
    void aPoolingPathThatIsNoFolderInsideTheModelIsRefusedNamingModulesJson() throws IOException {
        for (String path : List.of("1_Pooling\\u0000", "../1_Pooling", "/1_Pooling")) {
            Path six = sixLayout(tmp.resolve("six-" + path.hashCode()));
            Path modules = six.resolve("modules.json");
            Files.writeString(modules, MODULES_6.replace("\"1_Pooling\"", "\"" + path + "\""));
            assertRefused(six, modules + ": the Pooling module's path ");
        }
    }

    private static void assertRefused(Path model, String message) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    /** The tiny bi-encoder with the modules sentence-transformers 6 writes. */
    private static Path sixLayout(Path dir) throws IOException {
        Golden.tinyBiEncoder(dir);
        Files.writeString(dir.resolve("modules.json"), MODULES_6);
        Files.writeString(dir.resolve("1_Pooling/config.json"), POOLING_6);
        Files.createDirectories(dir.resolve("2_Normalize"));
        Files.writeString(dir.resolve("2_Normalize/config.json"),
                "{\"module_input_name\": \"sentence_embedding\", \"module_output_name\": \"sentence_embedding\"}");
        return dir;
    }
}
