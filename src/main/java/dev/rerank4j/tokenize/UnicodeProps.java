package dev.rerank4j.tokenize;

/**
 * Character classes as HF tokenizers (Rust) defines them. Java's {@link Character} helpers differ in
 * places (e.g. {@code Character.isWhitespace} excludes U+00A0 and includes U+001C..U+001F), so the
 * definitions live here, by code point.
 */
final class UnicodeProps {
    private UnicodeProps() {
    }

    private static final int L = Character.OTHER_LETTER;
    private static final int M = Character.NON_SPACING_MARK;
    private static final int P = Character.OTHER_PUNCTUATION;

    /**
     * Code points whose general category in HF tokenizers differs from Java's: HF's category tables
     * (the unicode_categories crate) predate recent Unicode versions, so characters assigned since are,
     * for HF, unassigned letters: neither marks nor punctuation nor format characters. A few changed
     * category (U+1734 Mn → Mc, U+166D Po → So, U+111C9 Po → Mn). Triples {first, last, category HF uses}, sorted. Derived
     * by encoding every code point c as "a{c}b {c} {c}x" with both tokenizers (HF tokenizers 0.21 via DJL
     * 0.38 against Java 25's Unicode 16 tables): 618 code points differed, none after this table.
     */
    private static final int[] HF_CATEGORY_OVERRIDES = {
            0x061D, 0x061D, L, 0x07FD, 0x07FD, L, 0x0890, 0x0891, L, 0x0897, 0x089F, L, 0x08CA, 0x08E2, L,
            0x09FD, 0x09FE, L, 0x0A76, 0x0A76, L, 0x0AFA, 0x0AFF, L, 0x0B55, 0x0B55, L, 0x0C04, 0x0C04, L,
            0x0C3C, 0x0C3C, L, 0x0C77, 0x0C77, L, 0x0C84, 0x0C84, L, 0x0D00, 0x0D00, L, 0x0D3B, 0x0D3C, L,
            0x0D81, 0x0D81, L, 0x0EBA, 0x0EBA, L, 0x0ECE, 0x0ECE, L, 0x166D, 0x166D, P, 0x1734, 0x1734, M,
            0x180F, 0x180F, L, 0x1885, 0x1886, L, 0x1ABF, 0x1ACE, L, 0x1B4E, 0x1B4F, L, 0x1B7D, 0x1B7F, L,
            0x1DF6, 0x1DFB, L, 0x2E43, 0x2E4F, L, 0x2E52, 0x2E5D, L, 0xA82C, 0xA82C, L, 0xA8C5, 0xA8C5, L,
            0xA8FF, 0xA8FF, L, 0xA9BD, 0xA9BD, L, 0x10D24, 0x10D27, L, 0x10D69, 0x10D6E, L, 0x10EAB, 0x10EAD, L,
            0x10EFC, 0x10EFF, L, 0x10F46, 0x10F50, L, 0x10F55, 0x10F59, L, 0x10F82, 0x10F89, L,
            0x11070, 0x11070, L, 0x11073, 0x11074, L, 0x110C2, 0x110C2, L, 0x110CD, 0x110CD, L,
            0x111C9, 0x111C9, P, 0x111CF, 0x111CF, L, 0x1123E, 0x1123E, L, 0x11241, 0x11241, L,
            0x1133B, 0x1133B, L, 0x113BB, 0x113C0, L, 0x113CE, 0x113CE, L, 0x113D0, 0x113D0, L,
            0x113D2, 0x113D2, L, 0x113D4, 0x113D5, L, 0x113D7, 0x113D8, L, 0x113E1, 0x113E2, L,
            0x11438, 0x1143F, L, 0x11442, 0x11444, L, 0x11446, 0x11446, L, 0x1144B, 0x1144F, L,
            0x1145A, 0x1145B, L, 0x1145D, 0x1145E, L, 0x11660, 0x1166C, L, 0x116B9, 0x116B9, L,
            0x1171E, 0x1171E, M, 0x1182F, 0x11837, L, 0x11839, 0x1183B, L, 0x1193B, 0x1193C, L,
            0x1193E, 0x1193E, L, 0x11943, 0x11946, L, 0x119D4, 0x119D7, L, 0x119DA, 0x119DB, L,
            0x119E0, 0x119E0, L, 0x119E2, 0x119E2, L, 0x11A01, 0x11A0A, L, 0x11A33, 0x11A38, L,
            0x11A3B, 0x11A47, L, 0x11A51, 0x11A56, L, 0x11A59, 0x11A5B, L, 0x11A8A, 0x11A96, L,
            0x11A98, 0x11A9C, L, 0x11A9E, 0x11AA2, L, 0x11B00, 0x11B09, L, 0x11BE1, 0x11BE1, L,
            0x11C30, 0x11C36, L, 0x11C38, 0x11C3D, L, 0x11C3F, 0x11C3F, L, 0x11C41, 0x11C45, L,
            0x11C70, 0x11C71, L, 0x11C92, 0x11CA7, L, 0x11CAA, 0x11CB0, L, 0x11CB2, 0x11CB3, L,
            0x11CB5, 0x11CB6, L, 0x11D31, 0x11D36, L, 0x11D3A, 0x11D3A, L, 0x11D3C, 0x11D3D, L,
            0x11D3F, 0x11D45, L, 0x11D47, 0x11D47, L, 0x11D90, 0x11D91, L, 0x11D95, 0x11D95, L,
            0x11D97, 0x11D97, L, 0x11EF3, 0x11EF4, L, 0x11EF7, 0x11EF8, L, 0x11F00, 0x11F01, L,
            0x11F36, 0x11F3A, L, 0x11F40, 0x11F40, L, 0x11F42, 0x11F4F, L, 0x11F5A, 0x11F5A, L,
            0x11FFF, 0x11FFF, L, 0x12FF1, 0x12FF2, L, 0x13430, 0x13440, L, 0x13447, 0x13455, L,
            0x1611E, 0x16129, L, 0x1612D, 0x1612F, L, 0x16D6D, 0x16D6F, L, 0x16E97, 0x16E9A, L,
            0x16F4F, 0x16F4F, L, 0x16FE2, 0x16FE2, L, 0x16FE4, 0x16FE4, L, 0x1CF00, 0x1CF2D, L,
            0x1CF30, 0x1CF46, L, 0x1E000, 0x1E006, L, 0x1E008, 0x1E018, L, 0x1E01B, 0x1E021, L,
            0x1E023, 0x1E024, L, 0x1E026, 0x1E02A, L, 0x1E08F, 0x1E08F, L, 0x1E130, 0x1E136, L,
            0x1E2AE, 0x1E2AE, L, 0x1E2EC, 0x1E2EF, L, 0x1E4EC, 0x1E4EF, L, 0x1E5EE, 0x1E5EF, L,
            0x1E5FF, 0x1E5FF, L, 0x1E944, 0x1E94A, L, 0x1E95E, 0x1E95F, L
    };

    /**
     * Code points where HF's {@code StripAccents} and Java's general category M* disagree on what is a mark:
     * triples {first, last, 1 if HF strips them}, sorted. StripAccents asks unicode-normalization-alignments'
     * is_combining_mark, whose table is of an older Unicode than the categories above: marks assigned since are not
     * marks to it and stay, and U+1CF2–1CF3 were marks then. Ranges may span code points neither side calls a mark.
     * Derived by stripping "a{c}" for every code point with HF tokenizers 0.23.3 against Java 25 (2026-12-05): HF
     * strips 2,097 code points, 408 of them differed, none after this table.
     */
    private static final int[] HF_COMBINING_MARK_OVERRIDES = {
            0x7FD, 0x7FD, 0, 0x897, 0x8D3, 0, 0x9FE, 0x9FE, 0, 0xAFA, 0xAFF, 0, 0xB55, 0xB55, 0, 0xC04, 0xC3C, 0,
            0xCF3, 0xD00, 0, 0xD3B, 0xD3C, 0, 0xD81, 0xD81, 0, 0xEBA, 0xEBA, 0, 0xECE, 0xECE, 0, 0x1715, 0x1715, 0,
            0x180F, 0x180F, 0, 0x1ABF, 0x1ACE, 0, 0x1CF2, 0x1CF3, 1, 0x1CF7, 0x1CF7, 0, 0x1DF6, 0x1DFA, 0,
            0xA82C, 0xA82C, 0, 0xA8FF, 0xA8FF, 0, 0x10D24, 0x10F85, 0, 0x11070, 0x11074, 0, 0x110C2, 0x110C2, 0,
            0x11145, 0x11146, 0, 0x111C9, 0x111C9, 0, 0x111CE, 0x111CF, 0, 0x11241, 0x11241, 0, 0x1133B, 0x1133B, 0,
            0x113B8, 0x113E2, 0, 0x1145E, 0x1145E, 0, 0x1182C, 0x11A99, 0, 0x11D31, 0x1612F, 0, 0x16F4F, 0x16F4F, 0,
            0x16F7F, 0x16F87, 0, 0x16FE4, 0x16FF1, 0, 0x1CF00, 0x1CF46, 0, 0x1E08F, 0x1E5EF, 0
    };

    /** True if HF's {@code StripAccents} drops {@code cp}. */
    static boolean isHfCombiningMark(int cp) {
        int overridden = override(HF_COMBINING_MARK_OVERRIDES, cp);
        return overridden < 0 ? isMark(cp) : overridden == 1;
    }

    /** The general category HF tokenizers uses for {@code cp}, as a {@link Character#getType} constant. */
    static int hfType(int cp) {
        int overridden = cp >= 0x61D ? override(HF_CATEGORY_OVERRIDES, cp) : -1;
        return overridden < 0 ? Character.getType(cp) : overridden;
    }

    /** The value {@code table} (triples {first, last, value}, sorted) gives {@code cp}, or -1 if no range holds it. */
    private static int override(int[] table, int cp) {
        int lo = 0;
        int hi = table.length / 3 - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (cp < table[3 * mid]) {
                hi = mid - 1;
            } else if (cp > table[3 * mid + 1]) {
                lo = mid + 1;
            } else {
                return table[3 * mid + 2];
            }
        }
        return -1;
    }

    /** Rust {@code char::is_whitespace}: the Unicode White_Space property. */
    static boolean isWhitespace(int cp) {
        if (cp < 0x80) {
            return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
        }
        return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A)
                || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    /**
     * BERT's "control": Cc, Cf, Co, Cs except tab, newline and carriage return. HF's table for "other" is
     * built from UnicodeData.txt, which lists no unassigned code points, so Cn is not removed (U+0378 stays
     * and becomes [UNK]); the parity corpus checks this.
     */
    static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        return switch (hfType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE,
                 Character.SURROGATE -> true;
            default -> false;
        };
    }

    /** BERT's punctuation: ASCII punctuation (33-47, 58-64, 91-96, 123-126) or general category P*. */
    static boolean isPunctuation(int cp) {
        if (cp < 0x80) {
            return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
        }
        return switch (hfType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                 Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** The CJK ideograph blocks BERT surrounds with spaces (not Hangul, Hiragana or Katakana). */
    static boolean isChinese(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    /** General category Mn (what BERT drops after NFD when stripping accents). */
    static boolean isNonSpacingMark(int cp) {
        return cp >= 0x300 && hfType(cp) == Character.NON_SPACING_MARK;
    }

    /** General category M* (Mn, Mc, Me) in Java's Unicode tables. */
    static boolean isMark(int cp) {
        if (cp < 0x300) {
            return false;
        }
        int type = Character.getType(cp);
        return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK
                || type == Character.ENCLOSING_MARK;
    }

    /**
     * Rust's per-character {@code char::to_lowercase} (no context: a final sigma stays σ), appended to
     * {@code out}. U+0130 is the one character whose lowercase is two characters.
     */
    static void appendLowercase(StringBuilder out, int cp) {
        if (cp < 0x80) {
            out.append((char) (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
        } else if (cp == 0x130) {
            out.append('i').append('\u0307');
        } else {
            out.appendCodePoint(Character.toLowerCase(cp));
        }
    }

    static boolean isAscii(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }
}
