package dev.rerank4j.tokenize;

import dev.rerank4j.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading tokenizer.json: supported stages on a tiny synthetic file (ids checked with HF tokenizers 0.21), and errors for the rest. */
class TokenizerJsonTest {
    private static final String VOCAB = """
            {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "world": 5, "##s": 6, "<x>": 7, "<X>": 8}""";

    private static String json(String normalizer, String preTokenizer, String model, String postProcessor,
                               String addedTokens) {
        return """
                {"version": "1.0", "added_tokens": %s, "normalizer": %s, "pre_tokenizer": %s, "model": %s,
                 "post_processor": %s}""".formatted(addedTokens, normalizer, preTokenizer, model, postProcessor);
    }

    private static final String BERT_NORMALIZER = """
            {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true}""";
    private static final String WORDPIECE = """
            {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": %s}"""
            .formatted(VOCAB);
    private static final String BERT_PROCESSING = """
            {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}""";
    private static final String PRE = """
            {"type": "BertPreTokenizer"}""";

    private static Tokenizer load(String json) {
        return TokenizerJson.fromJson(json, "test/tokenizer.json");
    }

    @Test
    void readsBertProcessingAsTheBertTemplate() {
        Tokenizer t = load(json(BERT_NORMALIZER, PRE, WORDPIECE, BERT_PROCESSING, "[]"));
        Encoding e = t.encodePair("Hello", "WORLDS", 512);
        assertArrayEquals(new int[] {2, 4, 3, 5, 6, 3}, e.ids());
        assertArrayEquals(new int[] {0, 0, 0, 1, 1, 1}, e.typeIds());
    }

    @Test
    void appliesAddedTokenStripAndSingleWordFlags() {
        String added = """
                [{"id": 7, "content": "<x>", "single_word": true, "lstrip": true, "rstrip": true, "normalized": false, "special": true}]""";
        Tokenizer t = load(json(BERT_NORMALIZER, PRE, WORDPIECE, BERT_PROCESSING, added));
        assertArrayEquals(new int[] {2, 4, 7, 5, 3}, t.encode("hello  <x>  world", 512).ids());
        // Not a single word: "<x>" inside "hello<x>world" is plain text, and "<", "x", ">" are unknown here.
        assertArrayEquals(new int[] {2, 4, 1, 1, 1, 5, 3}, t.encode("hello<x>world", 512).ids());
    }

    @Test
    void matchesNormalizedAddedTokensAfterNormalization() {
        String added = """
                [{"id": 8, "content": "<X>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": false}]""";
        Tokenizer t = load(json(BERT_NORMALIZER, PRE, WORDPIECE, BERT_PROCESSING, added));
        assertArrayEquals(new int[] {2, 4, 8, 5, 3}, t.encode("hello<x>world", 512).ids());
    }

    /** Of added tokens that start alike, the longest one the text holds at a position is the one taken. */
    @Test
    void takesTheLongestAddedTokenThatMatches() {
        String added = """
                [{"id": 7, "content": "<x>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                 {"id": 9, "content": "<x>>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}]""";
        Tokenizer t = load(json(BERT_NORMALIZER, PRE, WORDPIECE, BERT_PROCESSING, added));
        assertArrayEquals(new int[] {2, 9, 4, 7, 5, 7, 3}, t.encode("<x>>hello<x>world<x>", 512).ids()); // HF tokenizers 0.23.3 gives the same
    }

    @Test
    void readsANormalizerSequence() {
        String sequence = """
                {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "Lowercase"}, {"type": "StripAccents"}]}""";
        Tokenizer t = load(json(sequence, PRE, WORDPIECE, BERT_PROCESSING, "[]"));
        assertArrayEquals(new int[] {2, 4, 5, 3}, t.encode("HÉLLO wörld", 512).ids());
    }

    /**
     * StripAccents drops the marks of HF's older Unicode tables, not Java's: U+1AC1 and U+1DF6 (marks since Unicode 13
     * and 10) stay, U+1CF2 (a mark until Unicode 11) goes. HF tokenizers 0.23.3 gives "e\u1AC1\u1DF6x" for this text.
     */
    @Test
    void stripsTheMarksHfStrips() {
        assertEquals("e\u1AC1\u1DF6x", Normalizer.stripAccents().normalize("e\u0301\u1AC1\u1CF2\u0F71\u1DF6\u0345x"));
    }

    /**
     * BERT strips accents after NFD, as HF does, not before: U+034F (a nonspacing mark of class 0) keeps the marks on
     * either side apart while NFD orders them, and only then goes. HF tokenizers 0.23.3 gives U+1D16D before U+1D165
     * here; dropping U+034F first let NFD swap them.
     */
    @Test
    void stripsAccentsOnlyAfterNfdHasOrderedTheMarks() {
        assertEquals("a\uD834\uDD6D\uD834\uDD65", new BertNormalizer(true, true, true, true).normalize("a\uD834\uDD6D\u034F\uD834\uDD65"));
    }

    @Test
    void rejectsUnknownNormalizerType() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> load(json("{\"type\": \"ByteLevel\"}", PRE, WORDPIECE, BERT_PROCESSING, "[]")));
        assertMentions(e, "test/tokenizer.json", "normalizer.type", "ByteLevel");
    }

    @Test
    void rejectsAnEmptyPrecompiledCharsmap() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> load(json("{\"type\": \"Precompiled\", \"precompiled_charsmap\": \"\"}", PRE, WORDPIECE, BERT_PROCESSING, "[]")));
        assertMentions(e, "test/tokenizer.json", "normalizer.precompiled_charsmap");
    }

    @Test
    void rejectsUnknownPreTokenizerType() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> load(json(BERT_NORMALIZER, "{\"type\": \"Punctuation\"}", WORDPIECE, BERT_PROCESSING, "[]")));
        assertMentions(e, "test/tokenizer.json", "pre_tokenizer.type", "Punctuation");
    }

    @Test
    void rejectsUnknownModelType() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> load(json(BERT_NORMALIZER, PRE, "{\"type\": \"WordLevel\", \"vocab\": {}}", BERT_PROCESSING, "[]")));
        assertMentions(e, "test/tokenizer.json", "model.type", "WordLevel");
    }

    @Test
    void rejectsUnknownPostProcessorType() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> load(json(BERT_NORMALIZER, PRE, WORDPIECE, "{\"type\": \"ByteFallback\"}", "[]")));
        assertMentions(e, "test/tokenizer.json", "post_processor.type", "ByteFallback");
    }

    private static final String BYTE_LEVEL_POST = """
            {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}""";
    private static final String TEMPLATE = """
            {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": "[CLS]", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]}}}""";

    /**
     * Qwen2's ByteLevel post-processor adds no tokens (it only trims offsets); Llama 3's Sequence of ByteLevel and a
     * template is the template. HF tokenizers 0.23.3 gives the same ids and type ids on such files.
     */
    @Test
    void readsAByteLevelPostProcessorAsAddingNothingAndASequenceAsItsTemplate() {
        Tokenizer byteLevel = load(json(BERT_NORMALIZER, PRE, WORDPIECE, BYTE_LEVEL_POST, "[]"));
        Encoding e = byteLevel.encodePair("hello", "world hello", 512);
        assertArrayEquals(new int[] {4, 5, 4}, e.ids());
        assertArrayEquals(new int[] {0, 1, 1}, e.typeIds());
        assertEquals(0, byteLevel.specialTokens(true));
        String sequence = "{\"type\": \"Sequence\", \"processors\": [" + BYTE_LEVEL_POST + ", " + TEMPLATE + "]}";
        Tokenizer templated = load(json(BERT_NORMALIZER, PRE, WORDPIECE, sequence, "[]"));
        Encoding pair = templated.encodePair("hello hello", "world", 512);
        assertArrayEquals(new int[] {2, 4, 4, 2, 5}, pair.ids());
        assertArrayEquals(new int[] {0, 0, 0, 1, 1}, pair.typeIds());
        assertArrayEquals(new int[] {2, 4}, templated.encode("hello", 512).ids());
        assertArrayEquals(new int[] {4}, load(json(BERT_NORMALIZER, PRE, WORDPIECE, "{\"type\": \"Sequence\", \"processors\": []}", "[]"))
                .encode("hello", 512).ids());
    }

    @Test
    void rejectsASequenceOfTwoPostProcessorsThatAddTokens() {
        String twice = "{\"type\": \"Sequence\", \"processors\": [" + TEMPLATE + ", " + BYTE_LEVEL_POST + ", " + BERT_PROCESSING + "]}";
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(json(BERT_NORMALIZER, PRE, WORDPIECE, twice, "[]")));
        assertMentions(e, "test/tokenizer.json", "post_processor.processors[2]", "post_processor.processors[0]");
    }

    /** Llama 3's files set ignore_merges: a word the vocabulary holds is its token whatever the merges make (tokenizers 0.23.3). */
    @Test
    void ignoreMergesTakesAWordTheVocabularyHoldsWhole() {
        String bpe = """
                {"model": {"type": "BPE", "ignore_merges": %s, "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5},
                 "merges": ["b c", "a b"]}}""";
        assertArrayEquals(new int[] {0, 4}, load(bpe.formatted("false")).encode("abc", 8).ids());
        assertArrayEquals(new int[] {5}, load(bpe.formatted("true")).encode("abc", 8).ids());
        assertArrayEquals(new int[] {0, 4, 0, 4}, load(bpe.formatted("true")).encode("abcabc", 8).ids(), "not in the vocabulary: merged");
    }

    @Test
    void rejectsAnUnknownTokenMissingFromTheVocabulary() {
        String model = WORDPIECE.replace("\"unk_token\": \"[UNK]\"", "\"unk_token\": \"<unk>\"");
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> load(json(BERT_NORMALIZER, PRE, model, BERT_PROCESSING, "[]")));
        assertMentions(e, "test/tokenizer.json", "model.unk_token", "<unk>");
    }

    /** A template that repeats or leaves out a sequence: the encoding was sized for one of each (index out of bounds, or zeros). */
    @Test
    void rejectsATemplateThatDoesNotPlaceEachSequenceOnce() {
        String a = "{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}", b = "{\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}";
        for (String[] t : new String[][] {{a + ", " + a, a + ", " + b}, {a, a + ", " + b + ", " + b}, {a, a}, {b, a + ", " + b}}) {
            String template = """
                    {"type": "TemplateProcessing", "single": [%s], "pair": [%s], "special_tokens": {}}""".formatted(t[0], t[1]);
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(json(BERT_NORMALIZER, PRE, WORDPIECE, template, "[]")));
            assertMentions(e, "post_processor", "once each");
        }
        String reversed = """
                {"type": "TemplateProcessing", "single": [%s], "pair": [%s], "special_tokens": {}}""".formatted(a, b + ", " + a);
        assertArrayEquals(new int[] {5, 4}, load(json(BERT_NORMALIZER, PRE, WORDPIECE, reversed, "[]")).encodePair("hello", "world", 512).ids());
    }

    @Test
    void rejectsIdsBeyondAnIntVocabularyAndScoresThatAreNotFinite() {
        String bigId = BERT_PROCESSING.replace("[\"[SEP]\", 3]", "[\"[SEP]\", 1099511627776]");
        assertMentions(assertThrows(ModelFormatException.class, () -> load(json(BERT_NORMALIZER, PRE, WORDPIECE, bigId, "[]"))),
                "post_processor.sep");
        String negativeId = BERT_PROCESSING.replace("[\"[CLS]\", 2]", "[\"[CLS]\", -5]");
        assertMentions(assertThrows(ModelFormatException.class, () -> load(json(BERT_NORMALIZER, PRE, WORDPIECE, negativeId, "[]"))),
                "post_processor.cls");
        String maxId = WORDPIECE.replace("\"world\": 5", "\"world\": 2147483647");
        assertMentions(assertThrows(ModelFormatException.class, () -> load(json(BERT_NORMALIZER, PRE, maxId, BERT_PROCESSING, "[]"))),
                "model.vocab", "world");
        String unigram = """
                {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["a", 1e400]]}""";
        assertMentions(assertThrows(ModelFormatException.class, () -> load(json("null", "null", unigram, "null", "[]"))),
                "model.vocab[1]", "finite");
    }

    @Test
    void capsTheQueryOfAHugeLimitWithoutOverflow() {
        Tokenizer t = load(json(BERT_NORMALIZER, PRE, WORDPIECE, BERT_PROCESSING, "[]"));
        assertArrayEquals(new int[] {2, 4, 3, 5, 3}, t.encodePair("hello", "world", 1_000_000_000, PairTruncation.FIRST_CAPPED_THEN_SECOND).ids());
    }

    /** A Replace pattern from the file that java.util.regex cannot finish: an exception naming it, not a hang or a crash. */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // unbounded, the first pattern runs for hours
    void boundsReplacePatternsThatBacktrackOrRecurseWithoutEnd() {
        java.util.function.Function<String, Tokenizer> withReplace = regex -> load(json("""
                {"type": "Replace", "pattern": {"Regex": "%s"}, "content": " "}""".formatted(regex), PRE, WORDPIECE, BERT_PROCESSING, "[]"));
        assertArrayEquals(new int[] {2, 4, 5, 3}, withReplace.apply(" {2,}").encode("hello    world", 512).ids());
        IllegalArgumentException backtracks = assertThrows(IllegalArgumentException.class,
                () -> withReplace.apply("(.*a){12}z").encode("a".repeat(40), 512));
        assertTrue(backtracks.getMessage().contains("(.*a){12}z"), backtracks.getMessage());
        IllegalArgumentException recurses = assertThrows(IllegalArgumentException.class,
                () -> withReplace.apply("(a|b)+").encode("ab".repeat(100_000), 512));
        assertTrue(recurses.getMessage().contains("(a|b)+"), recurses.getMessage());
    }

    /**
     * Stripping accents drops every nonspacing mark (HF tokenizers gives these ids): also a run of 50,000 of them,
     * which java.text.Normalizer's NFD alone reorders in quadratic time (5 s for 100,000, measured 2026-12-05;
     * {@link CanonicalOrder} sorts it first).
     */
    @Test
    void stripsALongRunOfMixedMarksAsHfDoes() {
        StringBuilder zalgo = new StringBuilder("hello");
        for (int i = 0; i < 50_000; i++) zalgo.append(i % 2 == 0 ? '\u0301' : '\u0316');
        Tokenizer t = load(json(BERT_NORMALIZER, PRE, WORDPIECE, BERT_PROCESSING, "[]"));
        assertArrayEquals(new int[] {2, 4, 5, 3}, t.encode(zalgo + " world", 512).ids());
        assertArrayEquals(new int[] {2, 4, 5, 3}, t.encode("h\u00e9llo\u0301 w\u00f6rld", 512).ids());
    }

    @Test
    void rejectsTextThatIsNotJson() {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load("{\"model\": "));
        assertMentions(e, "test/tokenizer.json");
    }

    private static void assertMentions(ModelFormatException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "'" + part + "' missing from: " + e.getMessage());
        }
    }

    /** Ids from tokenizers 0.23.3 on the same files: it numbers added tokens itself, whatever ids the file writes. */
    @Test
    void addedTokensTakeTheIdsTokenizersGivesThemNotTheFilesOwn() {
        String vocab = "{\"a\": 0, \"b\": 1, \"c\": 2, \"x\": 3, \"y\": 4, \"ab\": 5}";
        Tokenizer inVocab = TokenizerJson.fromJson("{\"added_tokens\": [" + added("ab", 3) + "], \"model\": {\"type\": \"BPE\","
                + " \"vocab\": " + vocab + ", \"merges\": [\"a b\"]}}", "test");
        assertArrayEquals(new int[] {5}, inVocab.encode("ab", 8).ids(), "a token in the vocabulary keeps its vocabulary id");
        assertArrayEquals(new int[] {3, 5}, inVocab.encode("xab", 8).ids());
        Tokenizer beyond = TokenizerJson.fromJson("{\"added_tokens\": [" + added("<x>", 100000) + ", " + added("<y>", 7) + "],"
                + " \"model\": {\"type\": \"BPE\", \"vocab\": " + vocab + ", \"merges\": [\"a b\"]}}", "test");
        assertArrayEquals(new int[] {6}, beyond.encode("<x>", 8).ids(), "the first new token takes the vocabulary's size");
        assertArrayEquals(new int[] {7}, beyond.encode("<y>", 8).ids());
        assertEquals(8, beyond.vocabSize());
        Tokenizer gaps = TokenizerJson.fromJson("{\"added_tokens\": [" + added("<x>", 9) + ", " + added("<y>", 10) + "],"
                + " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"c\": 5}, \"merges\": []}}", "test");
        assertArrayEquals(new int[] {3, 4}, gaps.encode("<x><y>", 8).ids(), "numbered from the number of entries, not the largest id");
    }

    private static String added(String content, int id) {
        return "{\"id\": " + id + ", \"content\": \"" + content + "\", \"single_word\": false, \"lstrip\": false,"
                + " \"rstrip\": false, \"normalized\": false, \"special\": true}";
    }
}
