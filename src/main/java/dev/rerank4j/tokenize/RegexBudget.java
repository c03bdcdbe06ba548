package dev.rerank4j.tokenize;

/**
 * A text that counts a java.util.regex matcher's reads of it, for patterns that come from a model's file (Replace,
 * Split): java.util.regex backtracks without limit ({@code (.*a){12}z} took 7 s on 30 characters), where HF's
 * Oniguruma gives up after a retry limit. Past the budget a read throws {@link OverBudget}, which the caller turns into
 * an IllegalArgumentException naming the pattern, never a hang.
 */
final class RegexBudget {
    /** Character reads allowed per character of text, plus a fixed allowance: far above any sane pattern's. */
    private static final long READS_PER_CHAR = 10_000;
    private static final long READS_FIXED = 10_000_000;

    private RegexBudget() {}

    /** {@code text}, its reads counted against a budget sized by its length. */
    static CharSequence of(String text) {
        return new Budgeted(text, READS_FIXED + READS_PER_CHAR * text.length());
    }

    /** Thrown by a read past the budget; no stack trace, as it only says the match was abandoned. */
    static final class OverBudget extends RuntimeException {
        OverBudget() {
            super(null, null, false, false);
        }
    }

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
