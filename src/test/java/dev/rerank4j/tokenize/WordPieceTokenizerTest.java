package dev.rerank4j.tokenize;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Behaviours of the all-MiniLM-L6-v2 tokenizer, with ids taken from HF tokenizers 0.21 (via DJL 0.38). */
class WordPieceTokenizerTest {
    private static final int CLS = 101;
    private static final int SEP = 102;
    private static final int UNK = 100;
    private static final int MASK = 103;

    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = MiniLmTokenizerFile.load();
    }

    private static int[] single(String text) {
        return tokenizer.encode(text, 512).ids();
    }

    /**
     * The interrupt is looked at every few thousand steps of the whole text, not of each piece between added tokens:
     * "a[SEP]" 10,000 times is 10,000 pieces of one word, which per-piece counts never took to a check. The interrupt
     * comes while the first piece is normalized (after the check at the start).
     */
    @Test
    void anInterruptStopsATextOfManyShortPieces() throws Exception {
        Tokenizer own = TokenizerJson.load(dev.rerank4j.Golden.path("bert-tiny-ce/tokenizer.json"));
        java.lang.reflect.Field field = PipelineTokenizer.class.getDeclaredField("normalizer");
        field.setAccessible(true);
        Normalizer real = (Normalizer) field.get(own);
        field.set(own, (Normalizer) text -> {
            Thread.currentThread().interrupt();
            return real.normalize(text);
        });
        try {
            assertThrows(java.util.concurrent.CancellationException.class, () -> own.encode("a[SEP]".repeat(10_000), 1 << 20));
        } finally {
            Thread.interrupted();
        }
    }

    /** Tokenizing looks at the caller's interrupt (a call of 100,000 documents tokenizes for seconds) and leaves it set. */
    @Test
    void anInterruptStopsTokenizing() {
        Thread.currentThread().interrupt();
        try {
            assertThrows(java.util.concurrent.CancellationException.class, () -> tokenizer.encodePair("query", "a document", 64));
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
        assertEquals(CLS, single("a document")[0], "the next call runs");
    }

    @Test
    void wrapsASingleTextInClsAndSep() {
        Encoding e = tokenizer.encode("Hello, world!!!", 512);
        assertArrayEquals(new int[] {CLS, 7592, 1010, 2088, 999, 999, 999, SEP}, e.ids());
        assertArrayEquals(new int[8], e.typeIds());
        assertFalse(e.truncated());
    }

    @Test
    void splitsWordsIntoContinuationPieces() {
        assertArrayEquals(new int[] {CLS, 14477, 20961, 3468, SEP}, single("unaffable")); // una ##ffa ##ble
    }

    @Test
    void truncatesTheLongerSequenceFirst() {
        Encoding e = tokenizer.encodePair("one two three four five six seven eight nine ten eleven",
                "alpha beta gamma delta", 16);
        assertArrayEquals(new int[] {CLS, 2028, 2048, 2093, 2176, 2274, 2416, 2698, 2809, 3157, SEP,
                6541, 8247, 13091, 7160, SEP}, e.ids());
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1}, e.typeIds());
        assertTrue(e.truncated());
    }

    @Test
    void truncatesASingleTextFromTheRight() {
        Encoding e = tokenizer.encode("Hello, world!!!", 4);
        assertArrayEquals(new int[] {CLS, 7592, 1010, SEP}, e.ids());
        assertTrue(e.truncated());
    }

    @Test
    void splitsLongestFirstLikeHuggingFace() {
        // The length table of HF tokenizers' truncate_encodings_longest_first test, budget 7.
        assertArrayEquals(new int[] {0, 7}, Truncation.longestFirst(0, 8, 7));
        assertArrayEquals(new int[] {2, 5}, Truncation.longestFirst(2, 8, 7));
        assertArrayEquals(new int[] {3, 4}, Truncation.longestFirst(4, 4, 7));
        assertArrayEquals(new int[] {5, 2}, Truncation.longestFirst(8, 2, 7));
        assertArrayEquals(new int[] {4, 3}, Truncation.longestFirst(8, 4, 7));
        assertArrayEquals(new int[] {3, 4}, Truncation.longestFirst(8, 8, 7));
        assertArrayEquals(new int[] {4, 4}, Truncation.longestFirst(4, 4, 8));
    }

    @Test
    void encodesAnEmptySecondSequenceAsItsSeparatorAlone() {
        Encoding e = tokenizer.encodePair("a", "", 512);
        assertArrayEquals(new int[] {CLS, 1037, SEP, SEP}, e.ids());
        assertArrayEquals(new int[] {0, 0, 0, 1}, e.typeIds());
    }

    @Test
    void encodesEmptyAndWhitespaceOnlyTextAsSpecialTokensAlone() {
        assertArrayEquals(new int[] {CLS, SEP}, single(""));
        assertArrayEquals(new int[] {CLS, SEP}, single(" \t\n\u3000 "));
        assertArrayEquals(new int[] {CLS, SEP, SEP}, tokenizer.encodePair("", "", 512).ids());
    }

    @Test
    void removesControlCharactersAndTreatsTabsAsWhitespace() {
        assertArrayEquals(new int[] {CLS, 11113, 1039, SEP}, single("a\u0001b\tc")); // ab c
    }

    @Test
    void splitsCjkCharactersIntoSeparateTokens() {
        assertArrayEquals(new int[] {CLS, 1746, 1861, 1864, 1876, SEP}, single("中文日本"));
    }

    @Test
    void stripsAccentsAndLowercases() {
        // cr ##eme br ##ule ##e ang ##strom
        assertArrayEquals(new int[] {CLS, 13675, 21382, 7987, 9307, 2063, 17076, 15687, SEP},
                single("Crème Brûlée ÅNGSTRÖM"));
    }

    @Test
    void mapsCharactersOutsideTheBmpToUnknownWholeCharacters() {
        assertArrayEquals(new int[] {CLS, UNK, UNK, SEP}, single("😀 🇫🇷"));
    }

    @Test
    void replacesOverlongWordsWithUnk() {
        int[] hundred = single("a".repeat(100));
        assertEquals(52, hundred.length); // aaa ##aa × 48 ##a: still split, not unknown
        assertArrayEquals(new int[] {CLS, UNK, SEP}, single("a".repeat(101)));
        assertArrayEquals(new int[] {CLS, UNK, SEP}, single("😀".repeat(101)));
    }

    @Test
    void splitsOutSpecialTokensTypedInTheText() {
        // Matched on the raw text, case-sensitively, even inside a word; "[mask]" is plain text.
        assertArrayEquals(new int[] {CLS, 7592, SEP, 2088, 1031, 7308, 1033, 1060, MASK, 1061, SEP},
                single("Hello [SEP] world [mask] x[MASK]y"));
    }

    @Test
    void rejectsMaxLengthSmallerThanTheSpecialTokens() {
        assertThrows(IllegalArgumentException.class, () -> tokenizer.encode("a", 1));
        assertThrows(IllegalArgumentException.class, () -> tokenizer.encodePair("a", "b", 2));
        assertArrayEquals(new int[] {CLS, SEP, SEP}, tokenizer.encodePair("a", "b", 3).ids());
    }

    @Test
    void looksUpTokenIdsInTheVocabularyAndAddedTokens() {
        assertEquals(1, tokenizer.tokenId("[unused0]"));
        assertEquals(MASK, tokenizer.tokenId("[MASK]"));
        assertEquals(-1, tokenizer.tokenId("no-such-token"));
        assertEquals(30522, tokenizer.vocabSize());
    }
}
