package dev.rerank4j.tokenize;

import dev.rerank4j.Golden;
import dev.rerank4j.io.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The pure-Java Qwen2-style pipeline (NFC, Split with Qwen2's regex, ByteLevel without regex, byte-level BPE, added tokens,
 * ByteLevel post-processor) on golden/qwen3-tiny-reranker/tokenizer.json against HF tokenizers: every line of the parity
 * corpora and hostile texts, against the ids tools/make_qwen_tokenizer_fixture.py stored (tokenizers 0.23.3); and
 * consecutive lines as pairs, truncated, against HF tokenizers at test time (DJL's binding, tokenizers 0.21).
 */
class QwenTokenizerParityTest {
    private static final String TOKENIZER = "qwen3-tiny-reranker/tokenizer.json";
    private static final int NO_LIMIT = Integer.MAX_VALUE;
    private static final int[] PAIR_MAX_LENGTHS = {512, 48};

    private static Map<String, Object> fixture;
    private static Tokenizer qwen;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = QwenTokenizerParityTest.class.getResourceAsStream("/tokenize/qwen-tokenizer-ids.json")) {
            fixture = Json.parseObject(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
        qwen = TokenizerJson.load(Golden.path(TOKENIZER));
    }

    private static int[] ids(Object list) {
        return ((List<?>) list).stream().mapToInt(v -> ((Long) v).intValue()).toArray();
    }

    private static String sha256(String resource) throws IOException {
        try (InputStream in = QwenTokenizerParityTest.class.getResourceAsStream(resource)) {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(in.readAllBytes()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void compare(String what, String text, int[] expected, List<String> mismatches) {
        int[] ours = qwen.encode(text, NO_LIMIT).ids();
        if (!Arrays.equals(expected, ours)) {
            mismatches.add(what + " " + WordPieceParityTest.describe(text) + "\n    ours:   " + Arrays.toString(ours)
                    + "\n    theirs: " + Arrays.toString(expected));
        }
    }

    private static void report(List<String> mismatches, int compared) {
        if (!mismatches.isEmpty()) {
            fail(mismatches.size() + " of " + compared + " encodings differ from HF tokenizers 0.23.3; the first ones:\n"
                    + String.join("\n", mismatches.subList(0, Math.min(8, mismatches.size()))));
        }
    }

    @Test
    void everyCorpusLineGivesHuggingFacesIds() throws IOException {
        @SuppressWarnings("unchecked")
        Map<String, Object> corpora = (Map<String, Object>) fixture.get("corpora");
        List<String> mismatches = new ArrayList<>();
        int compared = 0;
        for (String name : List.of("corpus.txt", "unicode-corpus.txt")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> corpus = (Map<String, Object>) corpora.get(name);
            assertEquals(corpus.get("sha256"), sha256("/tokenize/" + name),
                    name + " changed since the ids were made: rerun tools/make_qwen_tokenizer_fixture.py");
            List<String> lines = WordPieceParityTest.readCorpus("/tokenize/" + name);
            List<?> expected = (List<?>) corpus.get("ids");
            assertEquals(lines.size(), expected.size(), name);
            for (int i = 0; i < lines.size(); i++) compare(name + ":" + (i + 1), lines.get(i), ids(expected.get(i)), mismatches);
            compared += lines.size();
        }
        report(mismatches, compared);
        assertTrue(compared > 2900, "both corpora were read");
    }

    @Test
    void hostileTextsGiveHuggingFacesIds() {
        List<Map<String, Object>> texts = Golden.list(fixture, "texts");
        List<String> mismatches = new ArrayList<>();
        for (Map<String, Object> t : texts) compare("text", (String) t.get("text"), ids(t.get("ids")), mismatches);
        report(mismatches, texts.size());
    }

    @Test
    void everyConsecutivePairMatchesHuggingFace() throws IOException {
        List<String> texts = new ArrayList<>(WordPieceParityTest.readCorpus());
        texts.addAll(WordPieceParityTest.readCorpus("/tokenize/unicode-corpus.txt"));
        Path file = Golden.path(TOKENIZER);
        WordPieceParityTest.assertConsecutivePairsMatch("Qwen2 BPE parity", qwen, file, texts, PAIR_MAX_LENGTHS);
    }
}
