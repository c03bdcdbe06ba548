package dev.rerank4j.tokenize;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * HF's {@code Split} pre-tokenizer: the pieces of tokenize/split-cases.json (HF tokenizers 0.23.3's pre_tokenize_str, by
 * tools/make_qwen_tokenizer_fixture.py) for every behaviour, inverted and not, with regex and string patterns; the
 * Oniguruma constructs the translation supports; hostile long texts; and refusals naming the file and field.
 */
class SplitPreTokenizerTest {
    /** Qwen2's and Qwen3's pattern, as their tokenizer.json holds it. */
    static final String QWEN_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final int LONG = 100_000;

    private static Map<String, Object> cases;

    @BeforeAll
    static void load() throws IOException {
        cases = OnigurumaRegexTest.splitCases();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(String key) {
        return (List<Map<String, Object>>) cases.get(key);
    }

    private static Map<String, Object> splitJson(Object pattern, String behavior, boolean invert) {
        Map<String, Object> split = new LinkedHashMap<>();
        split.put("type", "Split");
        split.put("pattern", pattern);
        split.put("behavior", behavior);
        split.put("invert", invert);
        return split;
    }

    private static List<String> pieces(Map<String, Object> splitJson, String text) {
        List<String> out = new ArrayList<>();
        TokenizerJson.preTokenizerOf(splitJson, "test/tokenizer.json").split(text, out);
        return out;
    }

    private static List<String> qwenPieces(String text) {
        return pieces(splitJson(Map.of("Regex", QWEN_PATTERN), "Isolated", false), text);
    }

    /**
     * Each case through a whole tokenizer.json: the Split, then a WordPiece model whose vocabulary is HF's pieces, so
     * the ids are HF's pieces in order exactly when ours are the same (any other piece is [UNK] or splits into pieces).
     */
    @Test
    void everyBehaviourGivesHuggingFacesPiecesThroughATokenizerJson() {
        List<String> mismatches = new ArrayList<>();
        Set<SplitPreTokenizer.Behavior> seen = EnumSet.noneOf(SplitPreTokenizer.Behavior.class);
        int inverted = 0;
        for (Map<String, Object> c : list("behaviors")) {
            @SuppressWarnings("unchecked")
            List<String> expected = (List<String>) c.get("pieces");
            Map<String, Object> vocab = new LinkedHashMap<>();
            vocab.put("[UNK]", 0L);
            for (String piece : expected) vocab.putIfAbsent(piece, (long) vocab.size());
            String json = """
                    {"pre_tokenizer": %s, "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": %s}}"""
                    .formatted(Json.write(splitJson(c.get("pattern"), (String) c.get("behavior"), (Boolean) c.get("invert"))),
                            Json.write(vocab));
            Tokenizer tokenizer = TokenizerJson.fromJson(json, "test/tokenizer.json");
            int[] ids = expected.stream().mapToInt(p -> ((Long) vocab.get(p)).intValue()).toArray();
            String text = (String) c.get("text");
            if (!java.util.Arrays.equals(ids, tokenizer.encode(text, Integer.MAX_VALUE).ids())) {
                mismatches.add(c.get("behavior") + (Boolean.TRUE.equals(c.get("invert")) ? " inverted" : "") + " " + c.get("pattern")
                        + " on " + WordPieceParityTest.describe(text) + "\n    ours:   " + pieces(
                        splitJson(c.get("pattern"), (String) c.get("behavior"), (Boolean) c.get("invert")), text)
                        + "\n    theirs: " + expected);
            }
            seen.add(SplitPreTokenizer.Behavior.valueOf((String) c.get("behavior")));
            if (Boolean.TRUE.equals(c.get("invert"))) inverted++;
        }
        if (!mismatches.isEmpty()) fail(mismatches.size() + " splits differ from HF's:\n" + String.join("\n", mismatches));
        assertEquals(EnumSet.allOf(SplitPreTokenizer.Behavior.class), seen);
        assertTrue(inverted > 100, "inverted cases were read");
    }

    @Test
    void everyTranslatedConstructGivesHuggingFacesPieces() {
        List<String> mismatches = new ArrayList<>();
        for (Map<String, Object> c : list("regex")) {
            String text = (String) c.get("text");
            List<String> ours = pieces(splitJson(c.get("pattern"), "Isolated", false), text);
            if (!ours.equals(c.get("pieces"))) {
                mismatches.add(c.get("pattern") + " on " + WordPieceParityTest.describe(text) + "\n    ours:   " + ours
                        + "\n    theirs: " + c.get("pieces"));
            }
        }
        if (!mismatches.isEmpty()) fail(mismatches.size() + " splits differ from HF's:\n" + String.join("\n", mismatches));
        assertTrue(list("regex").size() > 50);
    }

    /** Qwen's pattern on 100,000 chars of one class: pieces as HF tokenizers 0.23.3 gives them, no stack overflow. */
    @Test
    void qwensPatternSplitsLongRunsOfOneClassAsHuggingFaceDoes() {
        assertRuns(qwenPieces("a".repeat(LONG)), LONG);
        assertRuns(qwenPieces(" ".repeat(LONG)), LONG);
        assertRuns(qwenPieces("\n".repeat(LONG)), LONG);
        assertRuns(qwenPieces("!".repeat(LONG)), LONG);
        assertRuns(qwenPieces("\u00a0".repeat(LONG)), LONG);
        assertRuns(qwenPieces(" \n".repeat(LONG / 2)), LONG);
        assertRuns(qwenPieces("\r\n".repeat(LONG / 2)), LONG);
        assertRuns(qwenPieces("\uD83D\uDE00".repeat(LONG / 2)), LONG);
        List<String> digits = qwenPieces("1".repeat(LONG));
        assertEquals(LONG, digits.size(), "one piece per digit");
        List<String> contractions = qwenPieces("'s".repeat(LONG / 2));
        assertEquals(LONG / 2, contractions.size());
        assertTrue(contractions.stream().allMatch("'s"::equals));
        List<String> words = qwenPieces("a ".repeat(LONG / 2));
        assertEquals(LONG / 2 + 1, words.size());
        assertEquals(List.of("a", " a", " a"), words.subList(0, 3));
        assertEquals(List.of(" a", " "), words.subList(words.size() - 2, words.size()));
        assertRuns(qwenPieces(" ".repeat(LONG) + "a"), LONG - 1, 2);
        assertRuns(qwenPieces(" ".repeat(LONG) + "\n" + " ".repeat(LONG) + "a"), LONG + 1, LONG - 1, 2);
        assertRuns(qwenPieces("\u2003".repeat(LONG) + "x"), LONG - 1, 2);
    }

    private static void assertRuns(List<String> pieces, int... lengths) {
        assertArrayEquals(lengths, pieces.stream().mapToInt(String::length).toArray());
    }

    /** A Split pattern from the file that java.util.regex cannot finish: an exception naming it, not a hang or a crash. */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // unbounded, the first pattern runs for hours
    void boundsSplitPatternsThatBacktrackOrRecurseWithoutEnd() {
        IllegalArgumentException backtracks = assertThrows(IllegalArgumentException.class,
                () -> pieces(splitJson(Map.of("Regex", "(.*a){12}z"), "Isolated", false), "a".repeat(40)));
        assertTrue(backtracks.getMessage().contains("backtracks"), backtracks.getMessage());
        IllegalArgumentException recurses = assertThrows(IllegalArgumentException.class,
                () -> pieces(splitJson(Map.of("Regex", "(?:a|b)+"), "Isolated", false), "ab".repeat(100_000)));
        assertTrue(recurses.getMessage().contains("recurses"), recurses.getMessage());
    }

    @Test
    void refusesAnUnknownBehaviourAndAMissingInvert() {
        ModelFormatException behavior = assertThrows(ModelFormatException.class,
                () -> pieces(splitJson(Map.of("Regex", "\\s+"), "MergedWithBoth", false), "a b"));
        assertMentions(behavior, "test/tokenizer.json", "pre_tokenizer.behavior", "MergedWithBoth");
        Map<String, Object> noInvert = splitJson(Map.of("Regex", "\\s+"), "Isolated", false);
        noInvert.remove("invert");
        assertMentions(assertThrows(ModelFormatException.class, () -> pieces(noInvert, "a b")), "pre_tokenizer.invert");
        assertMentions(assertThrows(ModelFormatException.class, () -> pieces(splitJson(Map.of("Glob", "*"), "Isolated", false), "a")),
                "pre_tokenizer.pattern.Regex");
    }

    /** Constructs the translation refuses, each named with the file and the field, in a Sequence as Qwen's files have it. */
    @Test
    void refusesRegexesItCannotTranslateNamingTheFileAndField() {
        for (String regex : OnigurumaRegexTest.REFUSED) {
            String json = """
                    {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [%s]},
                     "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0}}}"""
                    .formatted(Json.write(splitJson(Map.of("Regex", regex), "Isolated", false)));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> TokenizerJson.fromJson(json, "test/tokenizer.json"),
                    regex);
            assertMentions(e, "test/tokenizer.json", "pre_tokenizer.pretokenizers[0].pattern.Regex", regex);
        }
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) assertTrue(e.getMessage().contains(part), "'" + part + "' missing from: " + e.getMessage());
    }
}
