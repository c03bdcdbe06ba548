package dev.rerank4j.tokenize;

import dev.rerank4j.io.Json;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Oniguruma-to-java.util.regex translation: each character class it writes matches exactly the code points Oniguruma's
 * does (tokenize/split-cases.json, every Unicode scalar value, HF tokenizers 0.23.3), and what it cannot translate
 * faithfully is refused with the construct named.
 */
class OnigurumaRegexTest {
    /** Regexes that must be refused: each is valid for Oniguruma but means something the translation does not write. */
    static final List<String> REFUSED = List.of(
            "^a", "a$", "\\ba", "\\Aa", "a\\z", "(a)\\1", "\\k<n>", "(?m:a.)", "(?x) a", "(?#note)a", "[[:alpha:]]", "[a[bc]]",
            "[a-z&&[^aeiou]]", "[]a]", "\\h+", "\\R", "\\X", "\\K", "\\y", "\\p{Alpha}", "\\p{Han}", "\\p{Letter}", "[\\W]",
            "(?i:[a-z])", "(?i:ss)", "(?i:'St)", "(?i:fi)", "(?i:é)", "(?i:a+)", "(?i:(?:a))", "(?i:.)", "(?i:\\w)",
            "a{2}{3}", "a**", "a{2,3}+", "a{2}?", "*a", "a{100001}", "(?=a)+", "[b-a]", "[\\s-z]", "[a-c-e]", "\\x{D800}",
            "\\x{110000}", "x\uD800", "a)", "(a", "[ab", "(?i:a(?-i:b))");

    /** tokenize/split-cases.json, written by tools/make_qwen_tokenizer_fixture.py. */
    static Map<String, Object> splitCases() throws IOException {
        try (InputStream in = OnigurumaRegexTest.class.getResourceAsStream("/tokenize/split-cases.json")) {
            return Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void everyTranslatedClassMatchesWhatOnigurumaMatches() throws IOException {
        @SuppressWarnings("unchecked")
        Map<String, List<List<Long>>> classes = (Map<String, List<List<Long>>>) splitCases().get("classes");
        List<String> mismatches = new ArrayList<>();
        for (Map.Entry<String, List<List<Long>>> c : classes.entrySet()) {
            BitSet theirs = new BitSet();
            for (List<Long> range : c.getValue()) theirs.set(range.get(0).intValue(), range.get(1).intValue() + 1);
            Matcher m = OnigurumaRegex.compile(c.getKey()).matcher("");
            BitSet ours = new BitSet();
            for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
                if (Character.isSurrogate((char) cp) && cp <= 0xFFFF) continue; // no scalar value, no UTF-8
                if (m.reset(Character.toString(cp)).matches()) ours.set(cp);
            }
            if (!ours.equals(theirs)) {
                BitSet onlyOurs = (BitSet) ours.clone();
                onlyOurs.andNot(theirs);
                BitSet onlyTheirs = (BitSet) theirs.clone();
                onlyTheirs.andNot(ours);
                mismatches.add(c.getKey() + " -> " + OnigurumaRegex.toJava(c.getKey()) + ": " + onlyOurs.cardinality()
                        + " only ours " + hex(onlyOurs) + ", " + onlyTheirs.cardinality() + " only Oniguruma's " + hex(onlyTheirs));
            }
        }
        if (!mismatches.isEmpty()) fail(String.join("\n", mismatches));
        assertTrue(classes.size() > 40, "the classes were read");
    }

    private static String hex(BitSet set) {
        return set.stream().limit(8).mapToObj(cp -> "U+" + Integer.toHexString(cp).toUpperCase()).toList().toString();
    }

    @Test
    void refusesWhatItCannotTranslateNamingTheConstruct() {
        for (String regex : REFUSED) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnigurumaRegex.compile(regex), regex);
            assertTrue(e.getMessage().contains("/" + regex + "/"), e.getMessage());
        }
        assertTrue(message("(?i:ss)").contains("'ss' under (?i), which ß or a ligature folds to"), message("(?i:ss)"));
        assertTrue(message("\\p{Han}").contains("\\p{Han}"), message("\\p{Han}"));
        assertTrue(message("^a").contains("line anchor '^' at character 0"), message("^a"));
    }

    private static String message(String regex) {
        return assertThrows(IllegalArgumentException.class, () -> OnigurumaRegex.compile(regex)).getMessage();
    }

    /**
     * What the case-blind contractions become: each letter the class of what folds to it (s also ſ, k also the Kelvin sign),
     * not Java's UNICODE_CASE, which would let i match İ and ı where Oniguruma does not.
     */
    @Test
    void writesCaseBlindLettersAsTheClassOfWhatFoldsToThem() {
        assertEquals("(?:\\x{27}[sS\\x{17F}]|\\x{27}[kK\\x{212A}]|[iI])", OnigurumaRegex.toJava("(?i:'s|'k|i)"));
        assertEquals("a(?:[bB]|[cC])", OnigurumaRegex.toJava("a(?i)b|c"), "an inline (?i) takes the rest of its group");
        Pattern p = OnigurumaRegex.compile("(?i:'s|i)");
        assertTrue(p.matcher("'\u017F").matches() && p.matcher("'S").matches());
        assertTrue(!p.matcher("\u0130").matches() && !p.matcher("\u0131").matches());
    }

    /** Oniguruma's \w takes ² ³ ¹ ¼ ½ ¾ alone but not inside a bracket class (HF: Split([\w\-]+) on "a²b" gives a | ² | b). */
    @Test
    void wordShorthandInsideAClassLeavesOutTheLatin1DigitsAndFractions() {
        for (String c : new String[] {"\u00b2", "\u00b3", "\u00b9", "\u00bc", "\u00bd", "\u00be"}) {
            org.junit.jupiter.api.Assertions.assertTrue(OnigurumaRegex.compile("\\w").matcher(c).matches(), c);
            org.junit.jupiter.api.Assertions.assertFalse(OnigurumaRegex.compile("[\\w]").matcher(c).matches(), c);
            org.junit.jupiter.api.Assertions.assertFalse(OnigurumaRegex.compile("[\\w\\-]").matcher(c).matches(), c);
            org.junit.jupiter.api.Assertions.assertTrue(OnigurumaRegex.compile("[^\\w]").matcher(c).matches(), c);
        }
    }
}
