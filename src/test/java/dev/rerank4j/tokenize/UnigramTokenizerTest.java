package dev.rerank4j.tokenize;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.Json;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Unigram stages on small inputs; expected ids were printed by HF tokenizers 0.23.3 for the same vocabulary
 * ({@code tokenizers.models.Unigram(vocab, unk_id=0)}).
 */
class UnigramTokenizerTest {
    private static final String VOCAB = """
            [["<unk>", 0.0], ["▁", -2.0], ["a", -3.0], ["b", -3.0], ["ab", -5.0], ["abc", -5.5], ["c", -4.0],
             ["▁ab", -4.0], ["xy", -1.0], ["ü", -3.0], ["qz", -1.0]]""";

    private static Tokenizer unigram(String preTokenizer, String addedTokens) {
        String json = """
                {"added_tokens": %s, "normalizer": null, "pre_tokenizer": %s,
                 "model": {"type": "Unigram", "unk_id": 0, "vocab": %s, "byte_fallback": false},
                 "post_processor": null}""".formatted(addedTokens, preTokenizer, VOCAB);
        return TokenizerJson.fromJson(json, "test/tokenizer.json");
    }

    private static int[] ids(Tokenizer t, String text) {
        return t.encode(text, 512).ids();
    }

    @Test
    void findsTheHighestScoringSegmentationAndFusesUnknowns() {
        Tokenizer t = unigram("null", "[]");
        assertArrayEquals(new int[] {5}, ids(t, "abc"));
        assertArrayEquals(new int[] {4}, ids(t, "ab"));
        assertArrayEquals(new int[] {8, 0}, ids(t, "xyz"));
        assertArrayEquals(new int[] {0}, ids(t, "xzy")); // three unknowns, one token
        assertArrayEquals(new int[] {0, 4}, ids(t, "qqab"));
        assertArrayEquals(new int[] {2, 0, 2}, ids(t, "aqqa"));
        assertArrayEquals(new int[] {4, 5}, ids(t, "ababc"));
        assertArrayEquals(new int[] {9}, ids(t, "ü"));
        assertArrayEquals(new int[] {0}, ids(t, "u\u0308")); // no normalizer: not composed
        assertArrayEquals(new int[] {10}, ids(t, "qz"));
        assertArrayEquals(new int[] {0}, ids(t, "q"));
    }

    @Test
    void prependsTheMetaspaceOnlyAtTheInputsStartWithSchemeFirst() {
        Tokenizer t = unigram("""
                {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true}""", """
                [{"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false,
                  "normalized": false, "special": true}]""");
        assertArrayEquals(new int[] {7, 7}, ids(t, "ab ab"));
        assertArrayEquals(new int[] {0, 4, 7}, ids(t, "<unk>ab ab"));
    }

    @Test
    void readsMetaspaceInItsLegacyAndCurrentFormsAndReplaceWithStrip() {
        Tokenizer legacy = unigram("""
                {"type": "Metaspace", "replacement": "▁", "add_prefix_space": true}""", "[]");
        assertArrayEquals(new int[] {7, 7}, ids(legacy, "ab ab"));
        assertArrayEquals(new int[] {1, 0, 3, 1, 7, 1}, ids(legacy, " xb  ab "));
        Tokenizer never = unigram("""
                {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": false}""", "[]");
        assertArrayEquals(new int[] {4, 7}, ids(never, "ab ab"));
        Tokenizer always = unigram("""
                {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": false}""", "[]");
        assertArrayEquals(new int[] {7, 7}, ids(always, "ab ab"));
        assertArrayEquals(new int[] {1, 0, 3, 1, 7, 1}, ids(always, " xb  ab "));
        Tokenizer replace = TokenizerJson.fromJson("""
                {"normalizer": {"type": "Sequence", "normalizers": [
                   {"type": "Replace", "pattern": {"String": "x"}, "content": "a"},
                   {"type": "Strip", "strip_left": true, "strip_right": true}]},
                 "model": {"type": "Unigram", "unk_id": 0, "vocab": %s}}""".formatted(VOCAB), "test/tokenizer.json");
        assertArrayEquals(new int[] {4, 0, 4}, ids(replace, " xb  ab "));
        assertArrayEquals(new int[] {4, 0, 4}, ids(replace, "ab ab"));
    }

    private static String fixtureCharsmap() throws IOException {
        String json = Files.readString(UnigramParityTest.resource("tokenizer.json"), StandardCharsets.UTF_8);
        @SuppressWarnings("unchecked")
        Map<String, Object> normalizer = (Map<String, Object>) Json.parseObject(json).get("normalizer");
        return (String) normalizer.get("precompiled_charsmap");
    }

    @Test
    void appliesTheCharsmapPerGraphemeAsHuggingFaceDoes() throws IOException {
        Normalizer n = PrecompiledNormalizer.fromBase64(fixtureCharsmap(), "test");
        assertEquals("financial 1A", n.normalize("ﬁnancial ①Ａ"));
        assertEquals("x2", n.normalize("x²"));
        assertEquals("\u00e9", n.normalize("e\u0301"));
        // HF replaces a whole short grapheme by the replacement of its shortest matching prefix: NBSP + accent → " "
        assertEquals(" a", n.normalize("\u00a0\u0301a"));
        assertEquals("", n.normalize(""));
    }

    private static ModelFormatException loadCharsmap(String base64) {
        String json = """
                {"normalizer": {"type": "Sequence", "normalizers": [{"type": "Precompiled", "precompiled_charsmap": "%s"}]},
                 "pre_tokenizer": null, "model": {"type": "Unigram", "unk_id": 0, "vocab": %s}}""".formatted(base64, VOCAB);
        return assertThrows(ModelFormatException.class, () -> TokenizerJson.fromJson(json, "test/tokenizer.json"));
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "'" + e.getMessage() + "' does not mention '" + part + "'");
        }
    }

    @Test
    void rejectsACharsmapThatIsNotBase64() {
        assertMentions(loadCharsmap("not base64!"), "test/tokenizer.json", "normalizer.normalizers[0].precompiled_charsmap",
                "base64");
    }

    @Test
    void rejectsATrieSizeBeyondTheBlob() {
        byte[] blob = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(4000).array();
        assertMentions(loadCharsmap(Base64.getEncoder().encodeToString(blob)), "test/tokenizer.json",
                "precompiled_charsmap", "trie size 4000");
    }

    @Test
    void rejectsTrieValuesBeyondTheNormalizedStrings() throws IOException {
        byte[] blob = Base64.getDecoder().decode(fixtureCharsmap());
        int trieBytes = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN).getInt();
        byte[] cut = Arrays.copyOf(blob, 4 + trieBytes + 10);
        assertMentions(loadCharsmap(Base64.getEncoder().encodeToString(cut)), "test/tokenizer.json",
                "precompiled_charsmap", "beyond the 10 bytes");
    }

    @Test
    void rejectsTrieOffsetsBeyondTheTrie() {
        // one unit whose offset field points far outside a one-unit trie
        byte[] blob = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(4).putInt(1 << 20).array();
        assertMentions(loadCharsmap(Base64.getEncoder().encodeToString(blob)), "test/tokenizer.json",
                "precompiled_charsmap", "offset");
    }

    @Test
    void rejectsByteFallbackAndUnknownTypes() {
        String model = """
                {"type": "Unigram", "unk_id": 0, "vocab": %s, "byte_fallback": true}""".formatted(VOCAB);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TokenizerJson.fromJson(
                "{\"model\": " + model + "}", "test/tokenizer.json"));
        assertMentions(e, "test/tokenizer.json", "model.byte_fallback");
        e = assertThrows(ModelFormatException.class, () -> TokenizerJson.fromJson("""
                {"normalizer": {"type": "Nmt"}, "model": {"type": "Unigram", "unk_id": 0, "vocab": %s}}""".formatted(VOCAB),
                "test/tokenizer.json"));
        assertMentions(e, "test/tokenizer.json", "normalizer.type", "Nmt");
        e = assertThrows(ModelFormatException.class, () -> TokenizerJson.fromJson("""
                {"model": {"type": "Unigram", "unk_id": 11, "vocab": %s}}""".formatted(VOCAB), "test/tokenizer.json"));
        assertMentions(e, "test/tokenizer.json", "model.unk_id", "11");
    }

    @Test
    void keepsTheFirstThreeQuartersOfTheQueryAndCutsOnlyThePassage() {
        // <s> = "qz" (10), </s> = "ü" (9), so that the a's (2) and b's (3) are easy to count
        Tokenizer t = TokenizerJson.fromJson("""
                {"model": {"type": "Unigram", "unk_id": 0, "vocab": %s},
                 "post_processor": {"type": "RobertaProcessing", "sep": ["ü", 9], "cls": ["qz", 10]}}"""
                .formatted(VOCAB), "test/tokenizer.json");
        String query = "a".repeat(30);
        String passage = "b".repeat(30);
        // max 32: query capped at 24, passage gets 32 - 4 - 24 = 4
        assertEquals(expected(24, 4), Arrays.toString(t.encodePair(query, passage, 32, PairTruncation.FIRST_CAPPED_THEN_SECOND).ids()));
        // a 20-token query is under its cap: the passage gets 32 - 4 - 20 = 8
        assertEquals(expected(20, 8), Arrays.toString(t.encodePair("a".repeat(20), passage, 32,
                PairTruncation.FIRST_CAPPED_THEN_SECOND).ids()));
        // longest_first splits 28 evenly; the 3-argument method is longest_first
        assertEquals(expected(14, 14), Arrays.toString(t.encodePair(query, passage, 32).ids()));
        assertEquals(expected(14, 14), Arrays.toString(t.encodePair(query, passage, 32, PairTruncation.LONGEST_FIRST).ids()));
        // max 6: 6 * 3 / 4 = 4 query tokens and 4 specials do not fit; the query is cut to the 2 that do
        assertEquals(expected(2, 0), Arrays.toString(t.encodePair(query, passage, 6, PairTruncation.FIRST_CAPPED_THEN_SECOND).ids()));
        assertTrue(t.encodePair("a", "b", 32, PairTruncation.FIRST_CAPPED_THEN_SECOND).ids().length == 6);
    }

    private static String expected(int as, int bs) {
        int[] ids = new int[as + bs + 4];
        int k = 0;
        ids[k++] = 10;
        for (int i = 0; i < as; i++) {
            ids[k++] = 2;
        }
        ids[k++] = 9;
        ids[k++] = 9;
        for (int i = 0; i < bs; i++) {
            ids[k++] = 3;
        }
        ids[k] = 9;
        return Arrays.toString(ids);
    }
}
