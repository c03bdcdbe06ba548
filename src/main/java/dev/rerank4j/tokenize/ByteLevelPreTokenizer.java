package dev.rerank4j.tokenize;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HF {@code ByteLevel} (tokenizers/src/pre_tokenizers/byte_level.rs), the pre-tokenizer of GPT-2's and RoBERTa's byte-level
 * BPE: a space put before the text unless it starts with one ({@code add_prefix_space}), the text split as GPT-2 splits
 * it ({@code use_regex}), and every UTF-8 byte of each piece written as the printable character GPT-2's
 * {@code bytes_to_unicode} gives it, so that the BPE vocabulary covers any text.
 */
final class ByteLevelPreTokenizer implements PreTokenizer {
    /**
     * GPT-2's pattern. Its \s is Oniguruma's, Unicode White_Space, which Java's \s (ASCII only) is not; its \p{L} and
     * \p{N} are the Unicode categories, as Java's.
     */
    private static final Pattern GPT2 = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\p{IsWhite_Space}\\p{L}\\p{N}]+|\\p{IsWhite_Space}+(?!\\P{IsWhite_Space})"
                    + "|\\p{IsWhite_Space}+");
    private static final char[] BYTE_CHARS = bytesToUnicode();

    private final boolean addPrefixSpace;
    private final boolean useRegex;

    ByteLevelPreTokenizer(boolean addPrefixSpace, boolean useRegex) {
        this.addPrefixSpace = addPrefixSpace;
        this.useRegex = useRegex;
    }

    @Override
    public void split(String text, List<String> out) {
        if (text.isEmpty()) return;
        if (addPrefixSpace && !text.startsWith(" ")) text = " " + text;
        if (!useRegex) {
            out.add(bytes(text));
            return;
        }
        // tokenizers splits with the pattern's matches isolated: the text between two matches is a piece too
        Matcher m = GPT2.matcher(text);
        int end = 0;
        while (m.find()) {
            if (m.start() > end) out.add(bytes(text.substring(end, m.start())));
            out.add(bytes(m.group()));
            end = m.end();
        }
        if (end < text.length()) out.add(bytes(text.substring(end)));
    }

    /** The piece's UTF-8 bytes, each as its printable character. */
    static String bytes(String piece) {
        byte[] utf8 = piece.getBytes(StandardCharsets.UTF_8);
        char[] chars = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) chars[i] = BYTE_CHARS[utf8[i] & 0xFF];
        return new String(chars);
    }

    /**
     * GPT-2's bytes_to_unicode: the printable Latin-1 bytes ('!'–'~', '¡'–'¬', '®'–'ÿ') stand for themselves, the other
     * 68 bytes for U+0100 onwards, in byte order.
     */
    private static char[] bytesToUnicode() {
        char[] table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = (char) (printable ? b : next++);
        }
        return table;
    }
}
