package dev.rerank4j.tokenize;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HF {@code Replace} with a {@code Regex} pattern, on java.util.regex (Oniguruma in HF: simple patterns such as
 * {@code " {2,}"} agree). The pattern comes from the model's file, so its cost is bounded: java.util.regex
 * backtracks without limit ({@link RegexBudget}) and recurses once per repetition of an alternation
 * ({@code (a|b)+} overflowed the stack at 10,000 characters), where HF's engine gives up after a retry
 * limit or copes. Either becomes an IllegalArgumentException naming the pattern, never a hang or a crash.
 */
final class BoundedRegexReplace implements Normalizer {
    private final Pattern pattern;
    private final String replacement;

    BoundedRegexReplace(Pattern pattern, String content) {
        this.pattern = pattern;
        this.replacement = Matcher.quoteReplacement(content);
    }

    @Override
    public String normalize(String text) {
        try {
            return pattern.matcher(RegexBudget.of(text)).replaceAll(replacement);
        } catch (RegexBudget.OverBudget e) {
            throw new IllegalArgumentException("the tokenizer's Replace pattern /" + pattern + "/ backtracks without end on a text of "
                    + text.length() + " characters (java.util.regex has no retry limit)");
        } catch (StackOverflowError e) {
            throw new IllegalArgumentException("the tokenizer's Replace pattern /" + pattern + "/ recurses too deep for java.util.regex"
                    + " on a text of " + text.length() + " characters");
        }
    }
}
