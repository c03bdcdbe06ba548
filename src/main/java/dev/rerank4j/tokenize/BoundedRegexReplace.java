package dev.rerank4j.tokenize;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HF {@code Replace} with a {@code Regex} pattern, on java.util.regex (Oniguruma in HF: simple patterns such as
 * {@code " {2,}"} agree). The pattern comes from the model's file, so its cost is bounded: java.util.regex
 * backtracks without limit ({@code (.*a){12}z} took 7 s on 30 characters) and recurses once per repetition of an
 * alternation ({@code (a|b)+} overflowed the stack at 10,000 characters), where HF's engine gives up after a retry
 * limit or copes. Either becomes an IllegalArgumentException naming the pattern, never a hang or a crash.
 */
final class BoundedRegexReplace implements Normalizer {
    /** Character reads allowed per character of text, plus a fixed allowance: far above any sane pattern's. */
    private static final long READS_PER_CHAR = 10_000;
    private static final long READS_FIXED = 10_000_000;

    private final Pattern pattern;
    private final String replacement;

    BoundedRegexReplace(Pattern pattern, String content) {
        this.pattern = pattern;
        this.replacement = Matcher.quoteReplacement(content);
    }

    @Override
    public String normalize(String text) {
        try {
            return pattern.matcher(new Budgeted(text, READS_FIXED + READS_PER_CHAR * text.length())).replaceAll(replacement);
        } catch (OverBudget e) {
            throw new IllegalArgumentException("the tokenizer's Replace pattern /" + pattern + "/ backtracks without end on a text of "
                    + text.length() + " characters (java.util.regex has no retry limit)");
        } catch (StackOverflowError e) {
            throw new IllegalArgumentException("the tokenizer's Replace pattern /" + pattern + "/ recurses too deep for java.util.regex"
                    + " on a text of " + text.length() + " characters");
        }
    }

    private static final class OverBudget extends RuntimeException {
        OverBudget() {
            super(null, null, false, false);
        }
    }

    /** The text, counting the matcher's reads: past the budget the match is abandoned. */
    private static final class Budgeted implements CharSequence {
        private final String text;
        private long left;

        Budgeted(String text, long budget) {
            this.text = text;
            this.left = budget;
        }

        @Override
        public char charAt(int index) {
            if (--left < 0) throw new OverBudget();
            return text.charAt(index);
        }

        @Override
        public int length() {
            return text.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return text.subSequence(start, end);
        }

        @Override
        public String toString() {
            return text;
        }
    }
}
