package dev.rerank4j.tokenize;

/**
 * HF {@code BertNormalizer}, in HF's order: clean text (drop controls, U+0000 and U+FFFD; any whitespace
 * becomes a space), spaces around CJK ideographs, NFD + drop Mn marks, per-code-point lowercase.
 */
final class BertNormalizer implements Normalizer {
    private final boolean cleanText;
    private final boolean handleChineseChars;
    private final boolean stripAccents;
    private final boolean lowercase;

    BertNormalizer(boolean cleanText, boolean handleChineseChars, boolean stripAccents, boolean lowercase) {
        this.cleanText = cleanText;
        this.handleChineseChars = handleChineseChars;
        this.stripAccents = stripAccents;
        this.lowercase = lowercase;
    }

    @Override
    public String normalize(String text) {
        int n = text.length();
        StringBuilder out = new StringBuilder(n + 8);
        for (int i = 0; i < n; ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cleanText) {
                if (cp == 0 || cp == 0xFFFD || UnicodeProps.isControl(cp)) {
                    continue;
                }
                if (UnicodeProps.isWhitespace(cp)) {
                    cp = ' ';
                }
            }
            if (handleChineseChars && cp >= 0x3400 && UnicodeProps.isChinese(cp)) {
                out.append(' ').appendCodePoint(cp).append(' ');
            } else {
                out.appendCodePoint(cp);
            }
        }
        String s = out.toString();
        boolean ascii = UnicodeProps.isAscii(s);
        if (stripAccents && !ascii) {
            s = HfNormalForms.normalize(s, java.text.Normalizer.Form.NFD);
        }
        if (!lowercase && !(stripAccents && !ascii)) {
            return s;
        }
        out.setLength(0);
        for (int i = 0, m = s.length(); i < m; ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (stripAccents && UnicodeProps.isNonSpacingMark(cp)) {
                continue;
            }
            if (lowercase) {
                UnicodeProps.appendLowercase(out, cp);
            } else {
                out.appendCodePoint(cp);
            }
        }
        return out.toString();
    }
}
