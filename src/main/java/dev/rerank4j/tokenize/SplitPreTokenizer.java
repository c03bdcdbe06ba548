package dev.rerank4j.tokenize;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HF {@code Split} (tokenizers/src/pre_tokenizers/split.rs): the text cut at the matches of a pattern, the matches kept
 * as pieces of their own, dropped, or joined to a neighbour ({@code behavior}), with matches and the text between them
 * swapped first where {@code invert} is set. Qwen2's and Qwen3's tokenizer.json split this way with a GPT-4-like
 * regex before ByteLevel. The pattern is the {@link OnigurumaRegex} translation of the file's regex, or a literal.
 */
final class SplitPreTokenizer implements PreTokenizer {
    /** HF's SplitDelimiterBehavior, as tokenizer.json names it. */
    enum Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

    private final Pattern pattern;
    private final Behavior behavior;
    private final boolean invert;

    SplitPreTokenizer(Pattern pattern, Behavior behavior, boolean invert) {
        this.pattern = pattern;
        this.behavior = behavior;
        this.invert = invert;
    }

    @Override
    public void split(String text, List<String> out) {
        if (text.isEmpty()) return;
        IntList spans = spans(text);
        // spans: start, end, 1 if a match; now joined per behaviour (normalizer.rs NormalizedString::split)
        IntList pieces = new IntList(spans.size());
        int n = spans.size() / 3;
        switch (behavior) {
            case Isolated -> {
                for (int k = 0; k < n; k++) keep(pieces, spans.get(3 * k), spans.get(3 * k + 1));
            }
            case Removed -> {
                for (int k = 0; k < n; k++) if (!isMatch(spans, k)) keep(pieces, spans.get(3 * k), spans.get(3 * k + 1));
            }
            case Contiguous -> {
                boolean previous = false;
                for (int k = 0; k < n; k++) {
                    boolean match = isMatch(spans, k);
                    if (match == previous && !pieces.isEmpty()) pieces.set(pieces.size() - 1, spans.get(3 * k + 1));
                    else keep(pieces, spans.get(3 * k), spans.get(3 * k + 1));
                    previous = match;
                }
            }
            case MergedWithPrevious -> {
                boolean previous = false;
                for (int k = 0; k < n; k++) {
                    boolean match = isMatch(spans, k);
                    if (match && !previous && !pieces.isEmpty()) pieces.set(pieces.size() - 1, spans.get(3 * k + 1));
                    else keep(pieces, spans.get(3 * k), spans.get(3 * k + 1));
                    previous = match;
                }
            }
            case MergedWithNext -> {
                // HF folds from the end: a match joins the piece after it, unless a match came right after it
                boolean previous = false;
                IntList reversed = new IntList(spans.size());
                for (int k = n - 1; k >= 0; k--) {
                    boolean match = isMatch(spans, k);
                    if (match && !previous && !reversed.isEmpty()) reversed.set(reversed.size() - 2, spans.get(3 * k));
                    else keep(reversed, spans.get(3 * k), spans.get(3 * k + 1));
                    previous = match;
                }
                for (int k = reversed.size() / 2 - 1; k >= 0; k--) keep(pieces, reversed.get(2 * k), reversed.get(2 * k + 1));
            }
        }
        for (int k = 0; k < pieces.size(); k += 2) {
            int start = pieces.get(k), end = pieces.get(k + 1);
            if (end > start) out.add(text.substring(start, end)); // HF drops empty pieces
        }
    }

    private boolean isMatch(IntList spans, int k) {
        return (spans.get(3 * k + 2) == 1) != invert;
    }

    private static void keep(IntList pieces, int start, int end) {
        pieces.add(start);
        pieces.add(end);
    }

    /**
     * The text as HF's Pattern::find_matches gives it: the matches and the stretches between them, in order, as
     * (start, end, 1 for a match). Matches are found as the onig crate's find_iter finds them: each search starts where
     * the last match ended, and an empty match right where the last one ended is skipped by moving one character on
     * (Java's find would take it). Java may also start a match inside a surrogate pair, where UTF-8 has no position: a
     * pattern of BMP chars only is searched char by char, and (?&lt;!a) matches the empty string between the halves of
     * the emoji in "a😀"; such a match is passed over.
     */
    private IntList spans(String text) {
        IntList spans = new IntList(16);
        int n = text.length();
        Matcher m = pattern.matcher(RegexBudget.of(text));
        int from = 0;
        int lastMatchEnd = -1;
        int previous = 0;
        try {
            while (from <= n && m.find(from)) {
                int start = m.start(), end = m.end();
                if (start > 0 && start < n && Character.isLowSurrogate(text.charAt(start))
                        && Character.isHighSurrogate(text.charAt(start - 1))) {
                    from = start + 1;
                    continue;
                }
                if (start == end && end == lastMatchEnd) {
                    from += from < n ? Character.charCount(text.codePointAt(from)) : 1;
                    continue;
                }
                from = end;
                lastMatchEnd = end;
                if (start > previous) add(spans, previous, start, 0);
                add(spans, start, end, 1);
                previous = end;
            }
        } catch (RegexBudget.OverBudget e) {
            throw new IllegalArgumentException("the tokenizer's Split pattern /" + pattern + "/ backtracks without end on a text of "
                    + n + " characters (java.util.regex has no retry limit)");
        } catch (StackOverflowError e) {
            throw new IllegalArgumentException("the tokenizer's Split pattern /" + pattern + "/ recurses too deep for java.util.regex"
                    + " on a text of " + n + " characters");
        }
        if (previous < n) add(spans, previous, n, 0);
        return spans;
    }

    private static void add(IntList spans, int start, int end, int match) {
        spans.add(start);
        spans.add(end);
        spans.add(match);
    }
}
