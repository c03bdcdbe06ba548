package dev.rerank4j.tokenize;

import java.util.List;

/**
 * The normalizer stage of tokenizer.json: text in, text out. One implementation per HF type; a new type
 * (e.g. {@code Precompiled} for SentencePiece models) is one more small class and one case in
 * {@link TokenizerJson}.
 */
interface Normalizer {
    String normalize(String text);

    Normalizer IDENTITY = text -> text;

    /** HF {@code Sequence}: each normalizer in turn. */
    static Normalizer sequence(List<Normalizer> normalizers) {
        Normalizer[] steps = normalizers.toArray(Normalizer[]::new);
        return text -> {
            for (Normalizer step : steps) {
                text = step.normalize(text);
            }
            return text;
        };
    }

    /** HF {@code NFD}, {@code NFC}, {@code NFKD}, {@code NFKC}. */
    static Normalizer unicode(java.text.Normalizer.Form form) {
        return text -> HfNormalForms.normalize(text, form);
    }

    /** HF {@code Lowercase}: per code point, without context. */
    static Normalizer lowercase() {
        return text -> {
            StringBuilder out = new StringBuilder(text.length());
            for (int i = 0, n = text.length(); i < n; ) {
                int cp = text.codePointAt(i);
                i += Character.charCount(cp);
                UnicodeProps.appendLowercase(out, cp);
            }
            return out.toString();
        };
    }

    /**
     * HF {@code StripAccents}: drops combining marks (M*, as HF's older Unicode tables have them); does not decompose,
     * so it usually follows NFD.
     */
    static Normalizer stripAccents() {
        return text -> {
            if (UnicodeProps.isAscii(text)) {
                return text;
            }
            StringBuilder out = new StringBuilder(text.length());
            for (int i = 0, n = text.length(); i < n; ) {
                int cp = text.codePointAt(i);
                i += Character.charCount(cp);
                if (!UnicodeProps.isHfCombiningMark(cp)) {
                    out.appendCodePoint(cp);
                }
            }
            return out.toString();
        };
    }

    /** HF {@code Replace} with a {@code String} pattern: every non-overlapping occurrence, left to right. */
    static Normalizer replaceString(String pattern, String content) {
        return text -> pattern.isEmpty() ? text : text.replace(pattern, content);
    }

    /** HF {@code Replace} with a {@code Regex} pattern: see {@link BoundedRegexReplace}. */
    static Normalizer replaceRegex(java.util.regex.Pattern pattern, String content) {
        return new BoundedRegexReplace(pattern, content);
    }

    /** HF {@code Strip}: Unicode White_Space (Rust {@code char::is_whitespace}) off either end. */
    static Normalizer strip(boolean left, boolean right) {
        return text -> {
            int start = 0;
            int end = text.length();
            while (left && start < end && UnicodeProps.isWhitespace(text.codePointAt(start))) {
                start += Character.charCount(text.codePointAt(start));
            }
            while (right && end > start && UnicodeProps.isWhitespace(text.codePointBefore(end))) {
                end -= Character.charCount(text.codePointBefore(end));
            }
            return text.substring(start, end);
        };
    }
}
