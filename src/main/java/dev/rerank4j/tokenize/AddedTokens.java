package dev.rerank4j.tokenize;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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

    /** Patterns (as matched), in the file's order, and the token each belongs to. */
    private final String[] patterns;
    private final Token[] tokens;
    /**
     * The patterns as a trie of chars: a position follows the text down it as far as it goes, so its cost is the
     * longest pattern's length, not the number of patterns (20,000 added tokens sharing a first char made a
     * 100,000-char text take 17 s when every position tried every pattern).
     */
    private final Node root = new Node();
    /** The root's children for ASCII chars, so that plain text skips most positions without a map lookup. */
    private final Node[] asciiRoot = new Node[128];

    /** A trie node: the pattern (index, -1 if none) that ends here, and the nodes one char further. */
    private static final class Node {
        int pattern = -1;
        final Map<Character, Node> next = new HashMap<>();
    }

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
        patterns = pats.toArray(String[]::new);
        tokens = toks.toArray(Token[]::new);
        for (int k = 0; k < patterns.length; k++) {
            Node node = root;
            for (char c : patterns[k].toCharArray()) node = node.next.computeIfAbsent(c, x -> new Node());
            if (node.pattern < 0) node.pattern = k; // of two equal patterns the first declared wins, as before
        }
        root.next.forEach((c, child) -> {
            if (c < 128) asciiRoot[c] = child;
        });
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
        char first = text.charAt(i);
        Node node = first < 128 ? asciiRoot[first] : root.next.get(first);
        int longest = -1;
        for (int j = i + 1; node != null; j++) {
            if (node.pattern >= 0) longest = node.pattern;
            if (j == text.length()) break;
            node = node.next.get(text.charAt(j));
        }
        return longest;
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
