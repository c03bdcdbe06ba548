package dev.rerank4j.tokenize;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Finds added tokens (e.g. {@code [SEP]} typed in a document) in a text, as HF's AddedVocabulary does:
 * leftmost-longest matches, honouring {@code single_word}, {@code lstrip} and {@code rstrip}. HF keeps two
 * of these: one for tokens with {@code normalized: false}, matched on the raw text before normalization,
 * and one for the others, matched (with their normalized content) after it.
 */
final class AddedTokens {
    /** One added token as tokenizer.json declares it. */
    record Token(String content, int id, boolean singleWord, boolean lstrip, boolean rstrip, boolean normalized,
                 boolean special) {
    }

    /** A consumer of the pieces of a split text: either plain text or one added token id. */
    interface Sink {
        void text(String text);

        void token(int id);
    }

    static final AddedTokens NONE = new AddedTokens(List.of(), Normalizer.IDENTITY);

    /** Patterns (as matched) sorted longest first, and the token each belongs to. */
    private final String[] patterns;
    private final Token[] tokens;
    /** Whether a char can start a pattern, for the chars below 128; others always try. */
    private final boolean[] asciiStarts = new boolean[128];

    /** {@code normalizer} maps each token's content to the pattern it matches (identity for raw tokens). */
    AddedTokens(List<Token> tokenList, Normalizer normalizer) {
        List<String> pats = new ArrayList<>();
        List<Token> toks = new ArrayList<>();
        for (Token t : tokenList) {
            String pattern = normalizer.normalize(t.content());
            if (!pattern.isEmpty()) {
                pats.add(pattern);
                toks.add(t);
            }
        }
        Integer[] order = new Integer[pats.size()];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -pats.get(i).length()));
        patterns = new String[order.length];
        tokens = new Token[order.length];
        for (int k = 0; k < order.length; k++) {
            patterns[k] = pats.get(order[k]);
            tokens[k] = toks.get(order[k]);
            char c = patterns[k].charAt(0);
            if (c < 128) {
                asciiStarts[c] = true;
            }
        }
    }

    boolean isEmpty() {
        return patterns.length == 0;
    }

    /** Splits {@code text} into plain pieces and added tokens; an empty text gives one empty piece, as in HF. */
    void split(String text, Sink sink) {
        if (patterns.length == 0 || text.isEmpty()) {
            sink.text(text);
            return;
        }
        int n = text.length();
        int emitted = 0; // end of what was handed to the sink
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            if (c < 128 && !asciiStarts[c]) {
                i++;
                continue;
            }
            int k = match(text, i);
            if (k < 0) {
                i++;
                continue;
            }
            Token t = tokens[k];
            int start = i;
            int stop = i + patterns[k].length();
            if (t.singleWord() && !isSingleWord(text, start, stop)) {
                // HF's matcher does not retry a shorter pattern here: the match is discarded.
                i = stop;
                continue;
            }
            if (t.lstrip()) {
                int s = start;
                while (s > emitted) {
                    int cp = text.codePointBefore(s);
                    if (!UnicodeProps.isWhitespace(cp)) {
                        break;
                    }
                    s -= Character.charCount(cp);
                }
                start = s;
            }
            if (t.rstrip()) {
                while (stop < n) {
                    int cp = text.codePointAt(stop);
                    if (!UnicodeProps.isWhitespace(cp)) {
                        break;
                    }
                    stop += Character.charCount(cp);
                }
            }
            if (emitted < start) {
                sink.text(text.substring(emitted, start));
            }
            sink.token(t.id());
            emitted = stop;
            i = stop;
        }
        if (emitted < n) {
            sink.text(text.substring(emitted));
        }
    }

    /** The longest pattern that starts at {@code i}, or -1. */
    private int match(String text, int i) {
        for (int k = 0; k < patterns.length; k++) {
            if (text.startsWith(patterns[k], i)) {
                return k;
            }
        }
        return -1;
    }

    private static boolean isSingleWord(String text, int start, int stop) {
        boolean startOk = start == 0 || !isWordChar(text.codePointBefore(start));
        boolean stopOk = stop == text.length() || !isWordChar(text.codePointAt(stop));
        return startOk && stopOk;
    }

    /** Rust regex {@code \w}: alphabetic, marks, decimal numbers, connector punctuation, join controls. */
    private static boolean isWordChar(int cp) {
        if (Character.isAlphabetic(cp) || Character.isDigit(cp) || cp == 0x200C || cp == 0x200D) {
            return true;
        }
        int type = Character.getType(cp);
        return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK
                || type == Character.ENCLOSING_MARK || type == Character.CONNECTOR_PUNCTUATION;
    }
}
