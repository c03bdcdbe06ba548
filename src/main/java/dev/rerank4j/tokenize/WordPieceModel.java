package dev.rerank4j.tokenize;

import java.util.HashMap;
import java.util.Map;

/**
 * HF {@code WordPiece}: greedy longest-match-first over code points; pieces after the first carry the
 * continuing-subword prefix ({@code ##}). A word with more than {@code maxInputCharsPerWord} code points,
 * or with any piece missing from the vocabulary, becomes the single unknown token.
 */
final class WordPieceModel extends VocabularyModel {
    /** Tokens that start with the prefix, keyed without it, so lookups need no concatenation. */
    private final Map<String, Integer> continuations;
    private final int unkId;
    private final int maxInputCharsPerWord;
    private final int maxTokenChars;
    private final int maxContinuationChars;

    WordPieceModel(Map<String, Integer> vocab, int unkId, String prefix, int maxInputCharsPerWord) {
        super(vocab);
        this.continuations = new HashMap<>();
        int maxLen = 0;
        int maxContLen = 0;
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            String token = e.getKey();
            maxLen = Math.max(maxLen, token.length());
            if (!prefix.isEmpty() && token.startsWith(prefix) && token.length() > prefix.length()) {
                String rest = token.substring(prefix.length());
                continuations.put(rest, e.getValue());
                maxContLen = Math.max(maxContLen, rest.length());
            }
        }
        if (prefix.isEmpty()) {
            continuations.putAll(vocab);
            maxContLen = maxLen;
        }
        this.unkId = unkId;
        this.maxInputCharsPerWord = maxInputCharsPerWord;
        this.maxTokenChars = maxLen;
        this.maxContinuationChars = maxContLen;
    }

    @Override
    public void tokenize(String word, IntList out) {
        int n = word.length();
        if (n > maxInputCharsPerWord && word.codePointCount(0, n) > maxInputCharsPerWord) {
            out.add(unkId);
            return;
        }
        int mark = out.size();
        int start = 0;
        while (start < n) {
            Map<String, Integer> table = start == 0 ? vocab : continuations;
            int end = Math.min(n, start + (start == 0 ? maxTokenChars : maxContinuationChars));
            if (end < n && Character.isLowSurrogate(word.charAt(end)) && end > start) {
                end--; // never cut a surrogate pair
            }
            Integer id = null;
            while (end > start) {
                id = table.get(word.substring(start, end));
                if (id != null) {
                    break;
                }
                end--;
                if (end > start && Character.isLowSurrogate(word.charAt(end))) {
                    end--;
                }
            }
            if (id == null) {
                truncateTo(out, mark);
                out.add(unkId);
                return;
            }
            out.add(id);
            start = end;
        }
    }

    private static void truncateTo(IntList out, int size) {
        out.truncate(size);
    }
}
