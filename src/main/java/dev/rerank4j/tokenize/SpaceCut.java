package dev.rerank4j.tokenize;

/**
 * Where a long text may be cut so that tokenizing the part before the cut gives exactly the first ids of the whole
 * text: just before a space (U+0020) that ends a word. The pipelines {@link TokenizerJson} allows this for (see
 * {@code cutsAtSpaces}) normalize char by char or grapheme cluster by grapheme cluster, split words at spaces and
 * tokenize word by word, so nothing before such a space depends on anything after it, provided that
 * <ul>
 *   <li>the char before the space cannot join it in one grapheme cluster (a Prepend char would: those are Arabic
 *       signs U+0600–U+08FF, U+0D4E and supplementary code points, all refused here), and</li>
 *   <li>the char after it is a letter, digit or ASCII symbol, which never extends a cluster begun by the space
 *       (a combining mark or joiner would, and the precompiled normalizer maps a cluster as a whole).</li>
 * </ul>
 * Why bother: a reranker's documents can be whole web pages or books, and the model reads only its first few hundred
 * tokens; tokenizing all of it cost time and 20–30 bytes of heap per char.
 */
final class SpaceCut {
    private SpaceCut() {}

    /** The first cut at or after {@code from}, or -1 if the text has none there. */
    static int find(String text, int from) {
        for (int p = Math.max(1, from), end = text.length() - 1; p < end; p++) {
            if (text.charAt(p) == ' ' && endsWord(text.charAt(p - 1)) && startsWord(text.codePointAt(p + 1))) return p;
        }
        return -1;
    }

    private static boolean endsWord(char c) {
        if (c > 0x20 && c < 0x7f) return true;
        return Character.isLetterOrDigit(c) && !Character.isSurrogate(c) && !(c >= 0x0600 && c <= 0x08FF) && c != 0x0D4E;
    }

    private static boolean startsWord(int cp) {
        return (cp > 0x20 && cp < 0x7f) || Character.isLetterOrDigit(cp);
    }
}
