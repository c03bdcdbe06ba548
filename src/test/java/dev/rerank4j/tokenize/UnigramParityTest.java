package dev.rerank4j.tokenize;

import dev.rerank4j.io.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pure-Java Unigram pipeline (Precompiled nmt_nfkc charsmap, Metaspace, Unigram, XLM-R template) against
 * HF tokenizers (DJL's native binding) on the tiny XLM-R tokenizer of tools/make_unigram_fixture.py, in both
 * layouts transformers writes: {@code tokenizer.json} (transformers 5: Precompiled; WhitespaceSplit +
 * Metaspace) and {@code tokenizer-converter.json} (XLMRobertaConverter, the layout of released bge-reranker
 * files: Precompiled + Strip + Replace; Metaspace). Texts: the parity corpus plus the NFKC-sensitive corpus,
 * each line alone and consecutive lines as pairs.
 */
class UnigramParityTest {
    private static final String DIR = "/golden/xlmr-tiny-tokenizer/";
    private static final int SINGLE_MAX_LENGTH = 512;
    private static final int[] PAIR_MAX_LENGTHS = {512, 64};

    private static List<String> texts;

    @BeforeAll
    static void load() throws IOException {
        texts = new ArrayList<>(WordPieceParityTest.readCorpus());
        List<String> unicode = WordPieceParityTest.readCorpus("/tokenize/unicode-corpus.txt");
        assertTrue(unicode.size() >= 500, "unicode corpus has " + unicode.size() + " lines");
        texts.addAll(unicode);
    }

    @AfterAll
    static void release() {
        texts = null;
    }

    static Path resource(String name) {
        try {
            return Path.of(UnigramParityTest.class.getResource(DIR + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource " + DIR + name + " is missing", e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokenizer.json", "tokenizer-converter.json"})
    void everyLineMatchesHuggingFace(String file) throws IOException {
        Path path = resource(file);
        WordPieceParityTest.assertSinglesMatch("unigram parity (" + file + ")", TokenizerJson.load(path), path, texts, SINGLE_MAX_LENGTH);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokenizer.json", "tokenizer-converter.json"})
    void everyConsecutivePairMatchesHuggingFace(String file) throws IOException {
        Path path = resource(file);
        WordPieceParityTest.assertConsecutivePairsMatch("unigram parity (" + file + ")", TokenizerJson.load(path), path, texts,
                PAIR_MAX_LENGTHS);
    }

    /** xlmr-flag-truncation.json: ids computed in Python the way FlagEmbedding's reranker prepares a pair. */
    @Test
    @SuppressWarnings("unchecked")
    void firstCappedTruncationMatchesFlagEmbedding() throws IOException {
        Tokenizer ours = TokenizerJson.load(resource("tokenizer.json"));
        Path golden = resource("../xlmr-flag-truncation.json");
        Map<String, Object> root = Json.parseObject(Files.readString(golden, StandardCharsets.UTF_8));
        List<Object> cases = (List<Object>) root.get("cases");
        List<String> mismatches = new ArrayList<>();
        for (Object c : cases) {
            Map<String, Object> m = (Map<String, Object>) c;
            int maxLength = ((Long) m.get("max_length")).intValue();
            int[] expected = ((List<Object>) m.get("input_ids")).stream().mapToInt(o -> ((Long) o).intValue()).toArray();
            Encoding e = ours.encodePair((String) m.get("query"), (String) m.get("doc"), maxLength,
                    PairTruncation.FIRST_CAPPED_THEN_SECOND);
            if (!Arrays.equals(expected, e.ids()) || e.ids().length > maxLength) {
                mismatches.add("max " + maxLength + " " + WordPieceParityTest.describe((String) m.get("query")) + " | "
                        + WordPieceParityTest.describe((String) m.get("doc")) + "\n    ours:     " + Arrays.toString(e.ids())
                        + "\n    expected: " + Arrays.toString(expected));
            }
        }
        System.out.printf("FlagEmbedding truncation: %d pairs compared, %d mismatches%n", cases.size(), mismatches.size());
        assertTrue(cases.size() >= 100);
        if (!mismatches.isEmpty()) {
            throw new AssertionError(mismatches.size() + " differ; first: " + mismatches.getFirst());
        }
    }
}
