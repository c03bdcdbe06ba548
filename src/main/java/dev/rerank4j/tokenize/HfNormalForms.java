package dev.rerank4j.tokenize;

import java.text.Normalizer.Form;
import java.util.Arrays;

/**
 * NFD, NFC, NFKD and NFKC as HF tokenizers computes them. Its Rust normalizer carries Unicode 9.0's tables (its
 * category tables are older still, see {@link UnicodeProps}); the JDK's are Unicode 16. Unicode's stability
 * policy freezes the normal forms of assigned characters, so the two differ only where a text holds a code point
 * assigned since: to HF such a code point is unassigned, a starter that neither decomposes nor composes nor moves,
 * so the text on either side of it normalizes on its own. Here the text is cut at each such code point that the
 * JDK would decompose, reorder or compose, and the pieces between go to the JDK.
 */
final class HfNormalForms {
    private HfNormalForms() {}

    /**
     * Ranges {first, last} of the code points the JDK's normal forms act on and HF's leave as they are: their own
     * decomposition (canonical or compatibility) or a combining class other than 0 (reordering), or a composition
     * they take part in. Derived by normalizing every code point the JDK acts on, alone and beside U+0345 and U+0334,
     * and every composite's decomposition, with HF tokenizers 0.23. HfNormalFormsTest checks the table against HF
     * tokenizers (DJL) on every such code point and names any it gets wrong: rerun it when either side's Unicode
     * version changes.
     */
    private static final int[] UNKNOWN_TO_HF = {
            0x07FD, 0x07FD, 0x0897, 0x089F, 0x08CA, 0x08D3, 0x09FE, 0x09FE, 0x0C3C, 0x0C3C, 0x0D3B, 0x0D3C,
            0x0EBA, 0x0EBA, 0x1715, 0x1715, 0x1ABF, 0x1ACE, 0x1DF6, 0x1DFA, 0x32FF, 0x32FF, 0xA7F2, 0xA7F4,
            0xA82C, 0xA82C, 0xAB69, 0xAB69, 0x105C9, 0x105C9, 0x105D2, 0x105D2, 0x105DA, 0x105DA, 0x105E4, 0x105E4,
            0x10781, 0x10785, 0x10787, 0x107B0, 0x107B2, 0x107BA, 0x10D24, 0x10D27, 0x10D69, 0x10D6D,
            0x10EAB, 0x10EAC, 0x10EFD, 0x10EFF, 0x10F46, 0x10F50, 0x10F82, 0x10F85, 0x11070, 0x11070,
            0x1133B, 0x1133B, 0x11382, 0x11385, 0x1138B, 0x1138B, 0x1138E, 0x1138E, 0x11390, 0x11391,
            0x113B8, 0x113B8, 0x113BB, 0x113BB, 0x113C2, 0x113C2, 0x113C5, 0x113C5, 0x113C7, 0x113C9,
            0x113CE, 0x113D0, 0x1145E, 0x1145E, 0x11839, 0x1183A, 0x11930, 0x11930, 0x11935, 0x11935,
            0x11938, 0x11938, 0x1193D, 0x1193E, 0x11943, 0x11943, 0x119E0, 0x119E0, 0x11A34, 0x11A34,
            0x11A47, 0x11A47, 0x11A99, 0x11A99, 0x11D42, 0x11D42, 0x11D44, 0x11D45, 0x11D97, 0x11D97,
            0x11F41, 0x11F42, 0x1611E, 0x16129, 0x1612F, 0x1612F, 0x16D63, 0x16D63, 0x16D67, 0x16D6A,
            0x16FF0, 0x16FF1, 0x1CCD6, 0x1CCF9, 0x1E030, 0x1E06D, 0x1E08F, 0x1E08F, 0x1E130, 0x1E136,
            0x1E2AE, 0x1E2AE, 0x1E2EC, 0x1E2EF, 0x1E4EC, 0x1E4EF, 0x1E5EE, 0x1E5EF, 0x1F16C, 0x1F16C,
            0x1FBF0, 0x1FBF9
    };
    private static final int FIRST_UNKNOWN = UNKNOWN_TO_HF[0];

    static String normalize(String text, Form form) {
        int cut = firstUnknown(text, 0);
        if (cut < 0) return CanonicalOrder.normalize(text, form);
        StringBuilder out = new StringBuilder(text.length() + 16);
        int from = 0;
        while (cut >= 0) {
            out.append(CanonicalOrder.normalize(text.substring(from, cut), form));
            int kept = Character.charCount(text.codePointAt(cut));
            out.append(text, cut, cut + kept);
            from = cut + kept;
            cut = firstUnknown(text, from);
        }
        return out.append(CanonicalOrder.normalize(text.substring(from), form)).toString();
    }

    /** The char index of the first code point at or after {@code from} that HF's tables lack, or -1. */
    private static int firstUnknown(String text, int from) {
        for (int i = from, n = text.length(); i < n; ) {
            char c = text.charAt(i);
            if (c < FIRST_UNKNOWN) {
                i++;
                continue;
            }
            int cp = text.codePointAt(i);
            if (isUnknownToHf(cp)) return i;
            i += Character.charCount(cp);
        }
        return -1;
    }

    static boolean isUnknownToHf(int cp) {
        int at = Arrays.binarySearch(UNKNOWN_TO_HF, cp);
        return at >= 0 || (-at - 1) % 2 == 1; // on a bound, or between a range's first and last
    }
}
