package dev.rerank4j.tokenize;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Our ids and type ids against HF tokenizers (DJL's native binding) for all-MiniLM-L6-v2 on the corpus
 * written by tools/make_corpus.py: every line alone, and consecutive lines as pairs at several lengths.
 */
class WordPieceParityTest {
    private static final int SINGLE_MAX_LENGTH = 512;
    private static final int[] PAIR_MAX_LENGTHS = {512, 128, 16};
    private static final int MISMATCHES_SHOWN = 8;

    private static List<String> corpus;
    private static Tokenizer ours;

    @BeforeAll
    static void load() throws IOException {
        corpus = readCorpus();
        ours = MiniLmTokenizerFile.load();
    }

    @AfterAll
    static void release() {
        corpus = null;
        ours = null;
    }

    /** Lines of corpus.txt with the file's escapes undone: {@code \\} is a backslash, {@code \\uXXXX} a UTF-16 unit. */
    static List<String> readCorpus() throws IOException {
        return readCorpus("/tokenize/corpus.txt");
    }

    /** A corpus file in the format of tools/make_corpus.py (one text per line, backslash escapes). */
    static List<String> readCorpus(String resource) throws IOException {
        try (InputStream in = WordPieceParityTest.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + resource + " is missing");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            List<String> lines = new ArrayList<>();
            for (String line : text.split("\n", -1)) {
                lines.add(unescape(line));
            }
            if (lines.getLast().isEmpty()) {
                lines.removeLast(); // the newline ending the file
            }
            return lines;
        }
    }

    private static String unescape(String line) {
        if (line.indexOf('\\') < 0) {
            return line;
        }
        StringBuilder out = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length() && line.charAt(i + 1) == '\\') {
                out.append('\\');
                i++;
            } else if (c == '\\' && i + 5 < line.length() && line.charAt(i + 1) == 'u') {
                out.append((char) Integer.parseInt(line.substring(i + 2, i + 6), 16));
                i += 5;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** HF tokenizers (DJL) on {@code file}: special tokens added, no padding, longest_first truncation at {@code maxLength}. */
    private static HuggingFaceTokenizer reference(Path file, int maxLength) throws IOException {
        return HuggingFaceTokenizer.builder()
                .optTokenizerPath(file)
                .optAddSpecialTokens(true)
                .optPadding(false)
                .optTruncation(true) // longest_first
                .optMaxLength(maxLength)
                .build();
    }

    /** Every text alone, at {@code maxLength}: {@code ours} against HF tokenizers on {@code file}. */
    static void assertSinglesMatch(String label, Tokenizer ours, Path file, List<String> texts, int maxLength) throws IOException {
        List<String> mismatches = new ArrayList<>();
        try (HuggingFaceTokenizer hf = reference(file, maxLength)) {
            for (String line : texts) {
                compare(describe(line), ours.encode(line, maxLength), hf.encode(line), mismatches);
            }
        }
        System.out.printf("%s: %d single lines compared at max length %d, %d mismatches%n", label, texts.size(), maxLength,
                mismatches.size());
        report(mismatches);
    }

    /** Every two consecutive texts as a pair, at each of {@code maxLengths}: {@code ours} against HF tokenizers on {@code file}. */
    static void assertConsecutivePairsMatch(String label, Tokenizer ours, Path file, List<String> texts, int[] maxLengths)
            throws IOException {
        List<String> mismatches = new ArrayList<>();
        int compared = 0;
        for (int maxLength : maxLengths) {
            try (HuggingFaceTokenizer hf = reference(file, maxLength)) {
                for (int i = 0; i + 1 < texts.size(); i++) {
                    String a = texts.get(i);
                    String b = texts.get(i + 1);
                    compare("max " + maxLength + " pair " + describe(a) + " | " + describe(b),
                            ours.encodePair(a, b, maxLength), hf.encode(a, b), mismatches);
                    compared++;
                }
            }
        }
        System.out.printf("%s: %d pairs compared at max lengths %s, %d mismatches%n", label, compared,
                Arrays.toString(maxLengths), mismatches.size());
        report(mismatches);
    }

    @Test
    void everyCorpusLineMatchesHuggingFace() throws IOException {
        assertSinglesMatch("tokenizer parity", ours, MiniLmTokenizerFile.path(), corpus, SINGLE_MAX_LENGTH);
    }

    @Test
    void everyConsecutivePairMatchesHuggingFaceAtSeveralLengths() throws IOException {
        assertConsecutivePairsMatch("tokenizer parity", ours, MiniLmTokenizerFile.path(), corpus, PAIR_MAX_LENGTHS);
    }

    static void compare(String what, Encoding ours, ai.djl.huggingface.tokenizers.Encoding theirs,
                                List<String> mismatches) {
        long[] ids = theirs.getIds();
        long[] types = theirs.getTypeIds();
        if (!Arrays.equals(toLong(ours.ids()), ids) || !Arrays.equals(toLong(ours.typeIds()), types)) {
            mismatches.add(what + "\n    ours:   " + Arrays.toString(ours.ids()) + " types " + Arrays.toString(ours.typeIds())
                    + "\n    theirs: " + Arrays.toString(ids) + " types " + Arrays.toString(types)
                    + "\n    tokens: " + String.join(" ", theirs.getTokens()));
        }
    }

    private static long[] toLong(int[] values) {
        return Arrays.stream(values).asLongStream().toArray();
    }

    static void report(List<String> mismatches) {
        if (!mismatches.isEmpty()) {
            fail(mismatches.size() + " encodings differ from HF tokenizers; the first ones:\n"
                    + String.join("\n", mismatches.subList(0, Math.min(MISMATCHES_SHOWN, mismatches.size()))));
        }
        assertEquals(0, mismatches.size());
    }

    /** The text with invisible characters made visible, cut to a readable length. */
    static String describe(String text) {
        StringBuilder out = new StringBuilder("\"");
        text.codePoints().limit(120).forEach(cp -> {
            if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || Character.getType(cp) == Character.FORMAT
                    || Character.isWhitespace(cp) && cp != ' ' || cp == 0xA0) {
                out.append(String.format("\\u%04X", cp));
            } else {
                out.appendCodePoint(cp);
            }
        });
        if (text.codePointCount(0, text.length()) > 120) {
            out.append("…");
        }
        return out.append('"').toString();
    }
}
