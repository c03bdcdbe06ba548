package dev.rerank4j.tokenize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.StringJoiner;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our NFD, NFC, NFKD, NFKC and BERT's accent stripping against HF tokenizers (DJL's native binding) on every code point
 * the JDK's normal forms act on, every composition the JDK knows, and random mixtures of marks with the code points HF's tables lack. The
 * normalized text comes back whole: each form runs in a tokenizer.json whose model maps the UTF-8 bytes of its input
 * one to one onto ids (byte-level BPE with no merges), so ids equal iff the normalized texts do.
 */
class HfNormalFormsTest {
    private static final Form[] FORMS = Form.values();
    /** The four normal forms, and BERT's accent stripping (NFD, then marks dropped as HF's categories have them). */
    private static final String[] NORMALIZERS = {"{\"type\":\"NFD\"}", "{\"type\":\"NFC\"}", "{\"type\":\"NFKD\"}",
            "{\"type\":\"NFKC\"}", "{\"type\":\"BertNormalizer\",\"clean_text\":false,\"handle_chinese_chars\":false,"
            + "\"strip_accents\":true,\"lowercase\":false}"};
    private static final int MAX_LENGTH = 1 << 16;
    @TempDir
    static Path dir;
    private static final Tokenizer[] OURS = new Tokenizer[NORMALIZERS.length];
    private static final HuggingFaceTokenizer[] THEIRS = new HuggingFaceTokenizer[NORMALIZERS.length];

    @BeforeAll
    static void load() throws IOException {
        for (int f = 0; f < NORMALIZERS.length; f++) {
            Path file = dir.resolve("normalizer-" + f + ".json");
            Files.writeString(file, byteTokenizerJson(NORMALIZERS[f]));
            OURS[f] = TokenizerJson.load(file);
            THEIRS[f] = HuggingFaceTokenizer.builder().optTokenizerPath(file).optAddSpecialTokens(false)
                    .optPadding(false).optTruncation(false).build();
        }
    }

    @AfterAll
    static void close() {
        for (HuggingFaceTokenizer hf : THEIRS) {
            if (hf != null) hf.close();
        }
    }

    /**
     * Each code point the JDK decomposes, reorders or composes, beside marks of low and high class, after a starter it
     * may compose with, and doubled (some of Unicode 16's compose with themselves).
     */
    @Test
    void everyCodePointTheJdkActsOnNormalizesAsInHf() {
        List<String> texts = new ArrayList<>();
        for (int cp : codePointsTheJdkActsOn()) {
            String c = Character.toString(cp);
            texts.add("a" + c + "\u0334\u0301 \u0345" + c + " " + c + "\u0334 e" + c + "\u0301 " + c + "\u0307 " + c + c);
        }
        assertTrue(texts.size() > 18_000, texts.size() + " code points");
        assertSameIds(texts);
    }

    /** Each composite the JDK knows, whole and as its decomposition, the latter also with a mark of class 1 inside. */
    @Test
    void everyCompositionTheJdkKnowsNormalizesAsInHf() {
        List<String> texts = new ArrayList<>();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (Character.getType(cp) == Character.SURROGATE) continue;
            String c = Character.toString(cp);
            String d = Normalizer.normalize(c, Form.NFD);
            if (d.equals(c) || !Normalizer.normalize(d, Form.NFC).equals(c)) continue;
            int second = d.offsetByCodePoints(0, 1);
            texts.add(c + " " + d + " " + d.substring(0, second) + "\u0334" + d.substring(second));
        }
        assertTrue(texts.size() > 12_000, texts.size() + " composites");
        assertSameIds(texts);
    }

    /** Runs of marks of many classes, with code points HF's tables lack among them, around starters that compose. */
    @Test
    void randomMixturesOfMarksNormalizeAsInHf() {
        int[] unknown = IntStream.rangeClosed(0, Character.MAX_CODE_POINT).filter(HfNormalForms::isUnknownToHf).toArray();
        assertTrue(unknown.length > 300, unknown.length + " code points unknown to HF");
        int[] known = {'a', 'e', ' ', 0x0301, 0x0307, 0x0334, 0x0345, 0x0316, 0x093C, 0x094D, 0x05B0, 0x3099, 0x1D165,
                0x00E9, 0x1100, 0x1161, 0x11A8, 0x0F73, 0x0344, 0xFF9E, 0x1E0C, 0x0CC6, 0x0CD5, 0x11131, 0x11127};
        Random random = new Random(11);
        List<String> texts = new ArrayList<>();
        for (int t = 0; t < 4000; t++) {
            StringBuilder text = new StringBuilder();
            for (int k = 2 + random.nextInt(14); k > 0; k--) {
                int[] pool = random.nextInt(3) == 0 ? unknown : known;
                text.appendCodePoint(pool[random.nextInt(pool.length)]);
            }
            texts.add(text.toString());
        }
        assertSameIds(texts);
    }

    /**
     * Marks HF's tables lack, written before marks of a lower class: the JDK reorders each pair in every form, HF
     * leaves it, and so do we.
     */
    @Test
    void marksHfLacksStayWhereTheyAre() {
        String[] texts = {"\u0345\u1ABF", "\u0345\u0897", "\u0301\u1DFA", "\u0345\u0C3C",
                Character.toString(0x16FF0) + "\u0334"};
        for (Form form : FORMS) {
            for (String text : texts) {
                assertTrue(!CanonicalOrder.normalize(text, form).equals(text), form + ": the JDK keeps " + hex(text));
                assertEquals(text, HfNormalForms.normalize(text, form), form + " of " + hex(text));
            }
        }
    }

    private static void assertSameIds(List<String> texts) {
        for (int f = 0; f < NORMALIZERS.length; f++) {
            ai.djl.huggingface.tokenizers.Encoding[] theirs = THEIRS[f].batchEncode(texts);
            List<String> mismatches = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                long[] ours = Arrays.stream(OURS[f].encode(texts.get(i), MAX_LENGTH).ids()).asLongStream().toArray();
                if (!Arrays.equals(ours, theirs[i].getIds())) mismatches.add(hex(texts.get(i)));
            }
            assertTrue(mismatches.isEmpty(), NORMALIZERS[f] + ": " + mismatches.size() + " of " + texts.size() + " differ, e.g. "
                    + mismatches.subList(0, Math.min(5, mismatches.size())));
        }
    }

    /** Code points whose NFD or NFKD is not themselves, marks of a class other than 0, and parts of composites. */
    private static TreeSet<Integer> codePointsTheJdkActsOn() {
        TreeSet<Integer> active = new TreeSet<>();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (Character.getType(cp) == Character.SURROGATE) continue;
            String c = Character.toString(cp);
            String d = Normalizer.normalize(c, Form.NFD);
            if (!d.equals(c) || !Normalizer.normalize(c, Form.NFKD).equals(c) || CanonicalOrder.isNonStarter(cp)) {
                active.add(cp);
            }
            if (!d.equals(c) && Normalizer.normalize(d, Form.NFC).equals(c)) d.codePoints().forEach(active::add);
        }
        return active;
    }

    /** Byte-level BPE over the 256 byte symbols, no merges, after the given normalizer: ids are the UTF-8 bytes. */
    private static String byteTokenizerJson(String normalizer) {
        StringJoiner vocab = new StringJoiner(",");
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            int symbol = printable ? b : 256 + extra++;
            vocab.add("\"\\u%04x\":%d".formatted(symbol, b));
        }
        return """
                {"version":"1.0","truncation":null,"padding":null,"added_tokens":[],
                 "normalizer":%s,
                 "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false},
                 "post_processor":null,"decoder":null,
                 "model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,
                  "end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"vocab":{%s},"merges":[]}}
                """.formatted(normalizer, vocab);
    }

    private static String hex(String text) {
        StringJoiner out = new StringJoiner(" ");
        text.codePoints().forEach(cp -> out.add(Integer.toHexString(cp)));
        return out.toString();
    }
}
