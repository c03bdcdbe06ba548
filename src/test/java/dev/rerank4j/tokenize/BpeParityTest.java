package dev.rerank4j.tokenize;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pure-Java byte-level BPE pipeline (ByteLevel, BPE, RoBERTa's template) against HF tokenizers (DJL's native binding)
 * on the tiny RoBERTa-style tokenizer of tools/make_bpe_fixture.py: without a prefix space and merges as pairs, and with
 * one and merges as "a b" lines. Texts: the parity corpus plus the NFKC-sensitive corpus, each line alone and consecutive
 * lines as pairs, plus texts made to stress GPT-2's split (contractions, runs of spaces, digits, symbols, <mask>).
 */
class BpeParityTest {
    private static final String DIR = "/golden/roberta-bpe-tokenizer/";
    private static final int SINGLE_MAX_LENGTH = 512;
    private static final int[] PAIR_MAX_LENGTHS = {512, 48};

    private static List<String> texts;

    @BeforeAll
    static void load() throws IOException {
        texts = new ArrayList<>(List.of("don't we'll THEY'RE it's 'tis 've", "  two  spaces   three\t\ttabs \n\n new  ",
                "numbers 3.14 1,000,000 ²³ ⅔ ١٢٣", "<mask> masked<mask>and <mask>   <mask>", "symbols !!! ??? ... --- @#$ €£¥",
                "emoji 🙂🚀👩‍💻 and ZWJ", " leading space", "trailing space ", "", " ", "Ａｂｃ　全角", "a\u00a0b\u2003c\u3000d"));
        texts.addAll(WordPieceParityTest.readCorpus());
        texts.addAll(WordPieceParityTest.readCorpus("/tokenize/unicode-corpus.txt"));
    }

    static Path resource(String name) {
        try {
            return Path.of(BpeParityTest.class.getResource(DIR + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource " + DIR + name + " is missing", e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokenizer.json", "tokenizer-prefix-space.json"})
    void everyLineMatchesHuggingFace(String file) throws IOException {
        Path path = resource(file);
        WordPieceParityTest.assertSinglesMatch("BPE parity (" + file + ")", TokenizerJson.load(path), path, texts, SINGLE_MAX_LENGTH);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokenizer.json", "tokenizer-prefix-space.json"})
    void everyConsecutivePairMatchesHuggingFace(String file) throws IOException {
        Path path = resource(file);
        WordPieceParityTest.assertConsecutivePairsMatch("BPE parity (" + file + ")", TokenizerJson.load(path), path, texts,
                PAIR_MAX_LENGTHS);
    }

    @Test
    void aMergeOutsideTheVocabularyIsNamed(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        String json = Files.readString(resource("tokenizer-prefix-space.json"));
        int at = json.indexOf("\"merges\": [\"") + "\"merges\": [\"".length();
        Path broken = dir.resolve("tokenizer.json");
        Files.writeString(broken, json.substring(0, at) + "zzzq zzzr\", \"" + json.substring(at));
        dev.rerank4j.ModelFormatException e = assertThrows(dev.rerank4j.ModelFormatException.class, () -> TokenizerJson.load(broken));
        assertTrue(e.getMessage().contains("model.merges[0]") && e.getMessage().contains("'zzzq' is not in model.vocab"), e.getMessage());
    }

    /** Ids from tokenizers 0.23.3 on the same file (unk_token "a", fuse_unk true). */
    @Test
    void fuseUnkJoinsUnknownCharsInARowButNotAnUnknownCharToARealToken() {
        String json = """
                {"model": {"type": "BPE", "unk_token": "a", "fuse_unk": true,
                 "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4}, "merges": ["a b", "b c"]}}""";
        Tokenizer t = TokenizerJson.fromJson(json, "test");
        assertArrayEquals(new int[] {0, 0}, t.encode("ax", 8).ids());
        assertArrayEquals(new int[] {0, 3}, t.encode("axb", 8).ids());
        assertArrayEquals(new int[] {3}, t.encode("xxb", 8).ids(), "the fused unknown merges as the token it stands for");
        assertArrayEquals(new int[] {1, 0, 2}, t.encode("bxxc", 8).ids());
    }

    @Test
    void theMergeOfLowestRankGoesFirstAndTheLeftmostOnATie() {
        // vocab a b c ab bc abc; merges: "b c" before "a b", so abc splits as a + bc, then bc + a has no merge
        String json = """
                {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5, "bb": 6},
                 "merges": ["b c", "a b", "b b", "a bc"]}, "pre_tokenizer": null}""";
        Tokenizer t = TokenizerJson.fromJson(json, "test");
        assertArrayEquals(new int[] {5}, t.encode("abc", 8).ids(), "b c (rank 0), then a bc (rank 3)");
        assertArrayEquals(new int[] {6, 1}, t.encode("bbb", 8).ids(), "the leftmost b b first");
        Tokenizer withHeader = TokenizerJson.fromJson(json.replace("\"merges\": [", "\"dropout\": 0.0, \"merges\": [\"#version: 0.2\", "), "test");
        assertArrayEquals(new int[] {5}, withHeader.encode("abc", 8).ids(), "a #version line is skipped and dropout 0 is none, as in tokenizers");
        assertEquals(7, t.vocabSize());
    }
}
