package dev.rerank4j.tokenize;

import java.util.List;

/**
 * HF {@code BertPreTokenizer}: split on whitespace (dropped), and every punctuation character is a word
 * of its own. Works on code points, so characters outside the BMP stay whole.
 */
final class BertPreTokenizer implements PreTokenizer {
    @Override
    public void split(String text, List<String> out) {
        int start = 0;
        int n = text.length();
        for (int i = 0; i < n; ) {
            int cp = text.codePointAt(i);
            int next = i + Character.charCount(cp);
            if (UnicodeProps.isWhitespace(cp)) {
                if (start < i) {
                    out.add(text.substring(start, i));
                }
                start = next;
            } else if (UnicodeProps.isPunctuation(cp)) {
                if (start < i) {
                    out.add(text.substring(start, i));
                }
                out.add(text.substring(i, next));
                start = next;
            }
            i = next;
        }
        if (start < n) {
            out.add(text.substring(start));
        }
    }
}
