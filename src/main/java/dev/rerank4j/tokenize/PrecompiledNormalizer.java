package dev.rerank4j.tokenize;

import dev.rerank4j.ModelFormatException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.BreakIterator;
import java.util.HashMap;
import java.util.Map;

/**
 * HF {@code Precompiled}: SentencePiece's compiled normalization rules ({@code precompiled_charsmap}, e.g.
 * nmt_nfkc), applied as HF tokenizers applies them (tokenizers/src/normalizers/precompiled.rs with the
 * {@code spm_precompiled} crate).
 *
 * <p>The blob is a little-endian uint32 byte size of a darts-clone double-array trie, the trie's uint32 units,
 * then the replacement strings, each ending with NUL. The trie maps UTF-8 byte strings to the offset of their
 * replacement. HF walks the text by extended grapheme cluster: a cluster shorter than 6 UTF-8 bytes whose
 * bytes start with a key is replaced as a whole by the replacement of the <em>shortest</em> such key (that is
 * what {@code common_prefix_search(..)[0]} returns); otherwise each code point of the cluster is looked up on
 * its own the same way and kept when nothing matches.
 *
 * <p>The whole trie is walked once at load time, so a hostile blob fails there (with a
 * {@link ModelFormatException}), never during a call.
 */
final class PrecompiledNormalizer implements Normalizer {
    /** HF skips the whole-cluster lookup from this many UTF-8 bytes on. */
    private static final int MAX_GRAPHEME_BYTES = 6;

    private final int[] units;
    /** Replacement per trie value (offset into the strings blob). */
    private final Map<Integer, String> replacements;

    /** Replacement of each ASCII char on its own (null: kept), for texts where every char is a grapheme. */
    private final String[] ascii = new String[128];

    private PrecompiledNormalizer(int[] units, Map<Integer, String> replacements) {
        this.units = units;
        this.replacements = replacements;
        byte[] one = new byte[1];
        for (int c = 0; c < 128; c++) {
            one[0] = (byte) c;
            ascii[c] = shortestMatch(one, 1);
        }
    }

    /**
     * Decodes and validates a charsmap; {@code where} names the file and field in errors.
     *
     * @throws ModelFormatException if the size header, the trie or an offset does not fit the blob
     */
    static PrecompiledNormalizer fromBase64(String base64, String where) {
        byte[] blob;
        try {
            blob = java.util.Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(where + ": not valid base64: " + e.getMessage(), e);
        }
        return fromBytes(blob, where);
    }

    static PrecompiledNormalizer fromBytes(byte[] blob, String where) {
        if (blob.length < 4) {
            throw new ModelFormatException(where + ": expected a 4-byte trie size, found " + blob.length + " bytes");
        }
        ByteBuffer in = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        long trieBytes = Integer.toUnsignedLong(in.getInt());
        long unitCount = trieBytes / 4;
        if (unitCount * 4 > blob.length - 4L) {
            throw new ModelFormatException(where + ": trie size " + trieBytes + " bytes is beyond the "
                    + (blob.length - 4) + " bytes that follow the size");
        }
        if (unitCount == 0) {
            throw new ModelFormatException(where + ": the trie is empty");
        }
        int[] units = new int[(int) unitCount];
        for (int i = 0; i < units.length; i++) {
            units[i] = in.getInt();
        }
        int stringsStart = 4 + (int) trieBytes;
        byte[] strings = java.util.Arrays.copyOfRange(blob, stringsStart, blob.length);
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(strings));
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(where + ": the normalized strings are not valid UTF-8");
        }
        Map<Integer, String> replacements = new HashMap<>();
        validate(units, strings, replacements, where);
        return new PrecompiledNormalizer(units, replacements);
    }

    // ---- darts-clone unit fields (spm_precompiled's ArrayUnit)

    private static boolean hasLeaf(int unit) {
        return ((unit >>> 8) & 1) == 1;
    }

    private static int value(int unit) {
        return unit & 0x7FFFFFFF;
    }

    private static int label(int unit) {
        return unit & 0x800000FF;
    }

    private static long offset(int unit) {
        long u = Integer.toUnsignedLong(unit);
        return (u >>> 10) << ((u & (1L << 9)) >>> 6);
    }

    /** Walks every reachable node: each child index, leaf index and value must lie inside the blob. */
    private static void validate(int[] units, byte[] strings, Map<Integer, String> replacements, String where) {
        long root = offset(units[0]);
        if (root >= units.length) {
            throw new ModelFormatException(where + ": trie root offset " + root + " is beyond the " + units.length + " units");
        }
        java.util.ArrayDeque<Integer> todo = new java.util.ArrayDeque<>();
        java.util.BitSet seen = new java.util.BitSet(units.length);
        todo.push((int) root);
        while (!todo.isEmpty()) {
            int node = todo.pop();
            if (seen.get(node)) {
                continue;
            }
            seen.set(node);
            for (int c = 1; c < 256; c++) {
                int pos = node ^ c;
                if (pos >= units.length || label(units[pos]) != c) {
                    continue;
                }
                long next = pos ^ offset(units[pos]);
                if (next >= units.length) {
                    throw new ModelFormatException(where + ": trie unit " + pos + " points to " + next
                            + ", beyond the " + units.length + " units");
                }
                if (hasLeaf(units[pos])) {
                    int v = value(units[(int) next]);
                    if (v >= strings.length) {
                        throw new ModelFormatException(where + ": trie value " + v + " is beyond the "
                                + strings.length + " bytes of normalized strings");
                    }
                    replacements.computeIfAbsent(v, k -> stringAt(strings, k, where));
                }
                todo.push((int) next);
            }
        }
    }

    private static String stringAt(byte[] strings, int start, String where) {
        int end = start;
        while (end < strings.length && strings[end] != 0) {
            end++;
        }
        if (start > 0 && (strings[start] & 0xC0) == 0x80) {
            throw new ModelFormatException(where + ": trie value " + start + " is not at the start of a UTF-8 character");
        }
        return new String(strings, start, end - start, StandardCharsets.UTF_8);
    }

    /** The replacement of the shortest key that prefixes {@code key[0, length)}, or null. */
    private String shortestMatch(byte[] key, int length) {
        long node = offset(units[0]);
        for (int i = 0; i < length; i++) {
            int c = key[i] & 0xFF;
            if (c == 0) {
                return null;
            }
            long pos = node ^ c;
            if (pos >= units.length) {
                return null;
            }
            int unit = units[(int) pos];
            if (label(unit) != c) {
                return null;
            }
            node = pos ^ offset(unit);
            if (hasLeaf(unit)) {
                return replacements.get(value(units[(int) node]));
            }
        }
        return null;
    }

    @Override
    public String normalize(String text) {
        int n = text.length();
        if (n == 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(n + 8);
        byte[] buf = new byte[64];
        BreakIterator graphemes = null;
        for (int i = 0; i < n; ) {
            // Between two ASCII chars there is always a grapheme boundary, except inside CR LF.
            char c = text.charAt(i);
            if (c < 0x80 && (i + 1 == n || boundaryBetween(c, text.charAt(i + 1)))) {
                String r = ascii[c];
                if (r != null) {
                    out.append(r);
                } else {
                    out.append(c);
                }
                i++;
                continue;
            }
            int end = i + 1;
            while (end < n && !boundaryBetween(text.charAt(end - 1), text.charAt(end))) {
                end++;
            }
            if (graphemes == null) {
                graphemes = BreakIterator.getCharacterInstance(java.util.Locale.ROOT);
            }
            graphemes.setText(new java.text.StringCharacterIterator(text, i, end, i));
            int start = graphemes.first();
            for (int next = graphemes.next(); next != BreakIterator.DONE; start = next, next = graphemes.next()) {
                normalizeGrapheme(text, start, next, out, buf);
            }
            i = end;
        }
        return out.toString();
    }

    /** Whether a grapheme boundary surely lies between {@code a} and {@code b}: both ASCII, not CR LF. */
    private static boolean boundaryBetween(char a, char b) {
        return a < 0x80 && b < 0x80 && !(a == '\r' && b == '\n');
    }

    private void normalizeGrapheme(String text, int start, int end, StringBuilder out, byte[] buf) {
        int n = utf8Length(text, start, end);
        if (n < MAX_GRAPHEME_BYTES) {
            encodeUtf8(text, start, end, buf);
            String whole = shortestMatch(buf, n);
            if (whole != null) {
                out.append(whole);
                return;
            }
        }
        for (int i = start; i < end; ) {
            int cp = text.codePointAt(i);
            int next = i + Character.charCount(cp);
            int len = encodeUtf8(text, i, next, buf);
            String one = shortestMatch(buf, len);
            if (one != null) {
                out.append(one);
            } else {
                out.appendCodePoint(cp);
            }
            i = next;
        }
    }

    private static int utf8Length(String s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        }
        return n;
    }

    /** Writes the UTF-8 of {@code s[from, to)} into {@code buf} (large enough), returns the byte count. */
    private static int encodeUtf8(String s, int from, int to, byte[] buf) {
        int n = 0;
        for (int i = from; i < to; ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp < 0x80) {
                buf[n++] = (byte) cp;
            } else if (cp < 0x800) {
                buf[n++] = (byte) (0xC0 | (cp >> 6));
                buf[n++] = (byte) (0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                buf[n++] = (byte) (0xE0 | (cp >> 12));
                buf[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                buf[n++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                buf[n++] = (byte) (0xF0 | (cp >> 18));
                buf[n++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                buf[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                buf[n++] = (byte) (0x80 | (cp & 0x3F));
            }
        }
        return n;
    }
}
