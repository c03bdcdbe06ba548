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
        return text -> UnicodeProps.isAscii(text) ? text : java.text.Normalizer.normalize(text, form);
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

    /** HF {@code StripAccents}: drops combining marks (M*); does not decompose, so it usually follows NFD. */
    static Normalizer stripAccents() {
        return text -> {
            if (UnicodeProps.isAscii(text)) {
                return text;
            }
            StringBuilder out = new StringBuilder(text.length());
            for (int i = 0, n = text.length(); i < n; ) {
                int cp = text.codePointAt(i);
                i += Character.charCount(cp);
                if (!UnicodeProps.isMark(cp)) {
                    out.appendCodePoint(cp);
                }
            }
            return out.toString();
        };
    }
}
