package dev.rerank4j.tokenize;

import dev.rerank4j.Golden;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ids of the Qwen3-Reranker model card's inputs (golden/qwen3-tiny-reranker.json, made by tools/make_golden.py with HF
 * tokenizers 0.23.3): the chat prefix and suffix, and each pair's body "&lt;Instruct&gt;: {instruction}\n&lt;Query&gt;:
 * {query}\n&lt;Document&gt;: {doc}", encoded by the pure-Java tokenizer from golden/qwen3-tiny-reranker/tokenizer.json
 * (Qwen2's layout: NFC, Split with its regex, ByteLevel, byte-level BPE, ByteLevel post-processor adding nothing).
 */
class Qwen3RerankerTokenizerTest {
    private static final int NO_LIMIT = Integer.MAX_VALUE;

    private static Map<String, Object> golden;
    private static Tokenizer qwen;

    @BeforeAll
    static void load() throws IOException {
        golden = Golden.json("qwen3-tiny-reranker.json");
        qwen = TokenizerJson.load(Golden.path("qwen3-tiny-reranker/tokenizer.json"));
    }

    private static int[] ids(Object list) {
        return ((List<?>) list).stream().mapToInt(v -> ((Long) v).intValue()).toArray();
    }

    private static String body(Map<String, Object> pair) {
        return "<Instruct>: " + pair.get("instruction") + "\n<Query>: " + pair.get("query") + "\n<Document>: " + pair.get("doc");
    }

    @Test
    void thePrefixAndSuffixGiveTheModelCardsIds() {
        int[] prefix = ids(golden.get("prefix_ids"));
        int[] suffix = ids(golden.get("suffix_ids"));
        assertArrayEquals(prefix, qwen.encode((String) golden.get("prefix"), NO_LIMIT).ids());
        assertArrayEquals(suffix, qwen.encode((String) golden.get("suffix"), NO_LIMIT).ids());
        // the chat markers are added tokens, special or not, and so single ids: <|im_start|> 901, <think> 903
        assertEquals(901, prefix[0]);
        assertEquals(903, suffix[8]);
        assertEquals(0, qwen.specialTokens(false), "the ByteLevel post-processor adds nothing");
        assertEquals(0, qwen.specialTokens(true));
    }

    /** Untruncated bodies exactly; a truncated body is the first ids of the whole one, and the tokenizer cuts it there too. */
    @Test
    void everyPairsBodyGivesTheGoldenIds() {
        int prefix = ids(golden.get("prefix_ids")).length;
        int suffix = ids(golden.get("suffix_ids")).length;
        List<String> mismatches = new ArrayList<>();
        int truncated = 0;
        List<Map<String, Object>> pairs = Golden.list(golden, "pairs");
        for (Map<String, Object> pair : pairs) {
            int[] input = ids(pair.get("input_ids"));
            int[] expected = Arrays.copyOfRange(input, prefix, input.length - suffix);
            int[] whole = qwen.encode(body(pair), NO_LIMIT).ids();
            int budget = ((Long) pair.get("max_length")).intValue() - prefix - suffix;
            Encoding cut = qwen.encode(body(pair), budget);
            boolean isTruncated = (Boolean) pair.get("truncated");
            if (isTruncated) truncated++;
            int[] ours = isTruncated ? Arrays.copyOf(whole, expected.length) : whole;
            if (!Arrays.equals(expected, ours) || !Arrays.equals(expected, cut.ids()) || cut.truncated() != isTruncated
                    || whole.length != ((Long) pair.get("untruncated_length")).intValue() - prefix - suffix) {
                mismatches.add(pair.get("id") + "\n  golden: " + Arrays.toString(expected) + "\n  ours:   " + Arrays.toString(whole)
                        + "\n  cut at " + budget + ": " + Arrays.toString(cut.ids()));
            }
        }
        assertTrue(mismatches.isEmpty(), mismatches.size() + " of " + pairs.size() + " bodies differ:\n" + String.join("\n", mismatches));
        assertTrue(truncated >= 5 && pairs.size() - truncated >= 40, "the fixture has truncated and whole bodies");
    }
}
