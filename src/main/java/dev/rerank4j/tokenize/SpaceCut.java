package dev.rerank4j.tokenize;

/**
 * Where a long text may be cut so that tokenizing the part before the cut gives exactly the first ids of the whole
 * text: just before a space (U+0020) that ends a word. The pipelines {@link TokenizerJson} allows this for (see
 * {@code cutsAtSpaces}) normalize char by char or grapheme cluster by grapheme cluster, split words at spaces and
 * tokenize word by word, so nothing before such a space depends on anything after it, provided that
 * <ul>
 *   <li>the char before the space is printable ASCII, a grapheme cluster of its own that every normalizer here maps to
 *       text without a space, and the char before that is not one that could join it into a cluster (a Prepend char:
 *       U+0600–U+08FF, U+0D4E and supplementary code points are refused), and</li>
 *   <li>the char after it is a letter, digit or ASCII symbol, which never extends a cluster begun by the space
 *       (a combining mark or joiner would, and the precompiled normalizer maps a cluster as a whole).</li>
 * </ul>
 * A letter before the space is not enough: NBSP + U+FF9E is one cluster that XLM-R's precompiled map turns into a
 * space, which a Replace of space runs then merges with the one at the cut (found by review, 2026-12-05). Prose has an
 * ASCII letter, digit or punctuation mark before a space often enough, in Latin, Cyrillic or Arabic script alike.
 * Why bother: a reranker's documents can be whole web pages or books, and the model reads only its first few hundred
 * tokens; tokenizing all of it cost time and 20–30 bytes of heap per char.
 */
final class SpaceCut {
    private SpaceCut() {}

    /** The first cut at or after {@code from}, or -1 if the text has none there. */
    static int find(String text, int from) {
        for (int p = Math.max(1, from), end = text.length() - 1; p < end; p++) {
            if (text.charAt(p) == ' ' && endsWord(text, p) && startsWord(text.codePointAt(p + 1))) return p;
        }
        return -1;
    }

    private static boolean endsWord(String text, int p) {
        char last = text.charAt(p - 1);
        if (last <= 0x20 || last >= 0x7f) return false;
        if (p < 2) return true;
        char before = text.charAt(p - 2);
        return !Character.isSurrogate(before) && !(before >= 0x0600 && before <= 0x08FF) && before != 0x0D4E;
    }

    private static boolean startsWord(int cp) {
        return (cp > 0x20 && cp < 0x7f) || Character.isLetterOrDigit(cp);
    }
}
