package dev.rerank4j.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rerank4j.Golden;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Long texts are tokenized up to a {@link SpaceCut} once that gives more ids than the budget: the ids must be the whole
 * text's first ones, on every tokenizer here, whatever the text holds (scripts, marks, spaces of every kind, the
 * tokenizers' own added tokens), and every truncation must come out as it would from all the ids.
 */
class PrefixCutTest {
    private static final int[] BUDGETS = {0, 1, 5, 61, 126, 254, 510, 2000};

    private static List<String> lines() throws IOException {
        List<String> lines = new ArrayList<>();
        for (String name : List.of("/tokenize/corpus.txt", "/tokenize/unicode-corpus.txt")) {
            try (InputStream in = PrefixCutTest.class.getResourceAsStream(name)) {
                lines.addAll(Arrays.asList(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")));
            }
        }
        return lines;
    }

    /** Corpus lines joined by assorted separators, added tokens among them, up to {@code chars}. */
    private static String text(Random rnd, List<String> lines, int chars) {
        String[] separators = {" ", " ", " ", "  ", "\n", "\t", "", " \u0301", "\u3000", " \u200d", "\u00a0"};
        String[] added = {"[SEP]", "[MASK]", "<mask>", "</s>", "[CLS]", "<s>"};
        StringBuilder sb = new StringBuilder();
        while (sb.length() < chars) {
            sb.append(lines.get(rnd.nextInt(lines.size())));
            sb.append(separators[rnd.nextInt(separators.length)]);
            if (rnd.nextInt(20) == 0) sb.append(added[rnd.nextInt(added.length)]).append(rnd.nextBoolean() ? " " : "");
        }
        return sb.toString();
    }

    private static void assertPrefixCutAgrees(String name, PipelineTokenizer tokenizer) throws IOException {
        List<String> lines = lines();
        Random rnd = new Random(name.hashCode());
        int cut = 0;
        for (int t = 0; t < 24; t++) {
            String text = text(rnd, lines, 5_000 + rnd.nextInt(60_000));
            int[] all = tokenizer.tokenize(text).toArray();
            for (int budget : BUDGETS) {
                int[] ids = tokenizer.tokenize(text, budget).toArray();
                assertArrayEquals(Arrays.copyOf(all, ids.length), ids, name + ": text " + t + ", budget " + budget + ": not the first ids");
                if (ids.length < all.length) {
                    assertTrue(ids.length > budget, name + ": cut with too few ids to know the text is cut");
                    cut++;
                }
                assertEquals(Arrays.toString(whole(tokenizer, text, budget)), Arrays.toString(tokenizer.encode(text, budget + tokenizer.specialTokens(false)).ids()));
            }
        }
        assertTrue(cut > 24 * 4, name + ": the prefix was cut only " + cut + " times: the test proves nothing");
    }

    /** What encode gives from all the ids: the template over the first budget of them. */
    private static int[] whole(PipelineTokenizer tokenizer, String text, int budget) {
        int[] all = tokenizer.tokenize(text).toArray();
        String[] parts = new String[0];
        int[] kept = Arrays.copyOf(all, Math.min(all.length, budget));
        int[] encoded = tokenizer.encode(text, budget + tokenizer.specialTokens(false)).ids();
        // the template wraps the kept ids: they sit together inside it
        String hay = Arrays.toString(encoded), needle = Arrays.toString(kept);
        assertTrue(hay.contains(needle.substring(1, needle.length() - 1)), "the encoding holds the first ids");
        return encoded;
    }

    @Test
    void wordPieceCutsGiveTheWholeTextsFirstIds() throws IOException {
        assertPrefixCutAgrees("all-MiniLM-L6-v2", (PipelineTokenizer) MiniLmTokenizerFile.load());
        assertPrefixCutAgrees("bert-tiny", (PipelineTokenizer) TokenizerJson.load(Golden.path("bert-tiny-ce/tokenizer.json")));
    }

    @Test
    void byteLevelBpeCutsGiveTheWholeTextsFirstIds() throws IOException {
        assertPrefixCutAgrees("roberta-bpe", (PipelineTokenizer) TokenizerJson.load(Golden.path("roberta-bpe-tokenizer/tokenizer.json")));
        assertPrefixCutAgrees("roberta-bpe-prefix-space",
                (PipelineTokenizer) TokenizerJson.load(Golden.path("roberta-bpe-tokenizer/tokenizer-prefix-space.json")));
    }

    @Test
    void unigramCutsGiveTheWholeTextsFirstIds() throws IOException {
        assertPrefixCutAgrees("xlmr-tiny", (PipelineTokenizer) TokenizerJson.load(Golden.path("xlmr-tiny-tokenizer/tokenizer.json")));
    }

    /**
     * Every truncation looks at a length past the budget only to know it is past, so any such length cuts alike; but
     * for the case {@link PairTruncation#needsLengthsPastBudget} names, which must then hold exactly there.
     */
    @Test
    void truncationsTreatEveryLengthPastTheBudgetAlike() {
        int exactNeeded = 0;
        for (PairTruncation truncation : PairTruncation.values()) {
            for (int budget = 0; budget <= 40; budget++) {
                for (int specials : new int[] {2, 3, 4}) {
                    int maxLength = budget + specials;
                    for (int n1 = 0; n1 <= 3 * budget + 3; n1++) {
                        for (int n2 = 0; n2 <= 3 * budget + 3; n2++) {
                            int[] expected = truncation.keep(n1, n2, maxLength, budget);
                            if (n1 > budget && n2 > budget && truncation.needsLengthsPastBudget(budget)) {
                                exactNeeded++;
                                continue;
                            }
                            int[] seen = truncation.keep(Math.min(n1, budget + 1), Math.min(n2, budget + 1), maxLength, budget);
                            assertArrayEquals(expected, seen, truncation + " budget " + budget + " n1 " + n1 + " n2 " + n2);
                        }
                    }
                }
            }
        }
        assertTrue(exactNeeded > 0);
        // and it is needed: two lengths past an odd budget keep differently by which is longer
        assertFalse(Arrays.equals(PairTruncation.LONGEST_FIRST.keep(9, 8, 10, 7), PairTruncation.LONGEST_FIRST.keep(8, 9, 10, 7)));
    }

    /**
     * Both sides past an odd budget: the longer keeps the odd token, so neither may stop early. Here the longer text has
     * fewer ids in its first few thousand chars than the shorter one, so stopping early would pick the wrong side.
     */
    @Test
    void aLongPairUnderAnOddBudgetKeepsTheOddTokenOnTheLongerSide() throws IOException {
        PipelineTokenizer miniLm = (PipelineTokenizer) MiniLmTokenizerFile.load();
        String shorter = "berlin ".repeat(800); // 800 ids, 585 in its first 4,096 chars
        String longer = "international ".repeat(300) + "a ".repeat(1_000); // 1,300 ids, 292 in its first 4,096 chars
        assertTrue(miniLm.tokenize(longer).size() > miniLm.tokenize(shorter).size());
        for (String[] pair : new String[][] {{shorter, longer}, {longer, shorter}}) {
            Encoding e = miniLm.encodePair(pair[0], pair[1], 10); // budget 7
            int firstSep = Arrays.stream(e.ids()).boxed().toList().indexOf(102);
            assertEquals(pair[0] == longer ? 4 : 3, firstSep - 1, "the longer side keeps 4 of the 7");
        }
    }

    /** A prefix with too few ids is tried again, longer: its ids alone cannot say how the text is cut. */
    @Test
    void aPrefixWithTooFewIdsGrows() {
        String json = """
                {"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1}},
                 "pre_tokenizer": {"type": "WhitespaceSplit"}}""";
        PipelineTokenizer sparse = (PipelineTokenizer) TokenizerJson.fromJson(json, "test");
        String text = ("z".repeat(90) + " ").repeat(2_000); // an id per 91 chars: 45 in the first 4,096
        int[] ids = sparse.tokenize(text, 61).toArray();
        assertTrue(ids.length > 61 && ids.length < 2_000, "cut after growing: " + ids.length);
        assertArrayEquals(Arrays.copyOf(sparse.tokenize(text).toArray(), ids.length), ids);
    }

    /**
     * A Split pattern may take text on both sides of a space into one piece (here two words and the space between),
     * so a prefix cut at a space would end in half a piece: such a tokenizer is tokenized whole.
     */
    @Test
    void aSplitPreTokenizerIsTokenizedWhole() throws IOException {
        String json = """
                {"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\\\S+ \\\\S+"}, "behavior": "Isolated", "invert": false},
                 "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a b": 1, " ": 2, "a": 3, "b": 4}}}""";
        PipelineTokenizer pairs = (PipelineTokenizer) TokenizerJson.fromJson(json, "test");
        String text = "a b ".repeat(3_000); // "a b", " ", "a b", ...: a cut after 4,096 chars falls between a and b
        int[] all = pairs.tokenize(text).toArray();
        assertEquals(6_000, all.length);
        assertArrayEquals(all, pairs.tokenize(text, 100).toArray());
    }

    /** Qwen2's and Llama-3's Split patterns end a piece at every cut (TokenizerJson.PIECES_END_AT_SPACES says why). */
    @Test
    void qwenAndLlama3SplitCutsGiveTheWholeTextsFirstIds() throws IOException {
        Path qwen = Golden.path("qwen3-tiny-reranker/tokenizer.json");
        assertPrefixCutAgrees("qwen2", (PipelineTokenizer) TokenizerJson.load(qwen));
        String llama3 = Files.readString(qwen).replace("|\\\\p{N}|", "|\\\\p{N}{1,3}|");
        assertTrue(llama3.contains("\\\\p{N}{1,3}"), "the pattern was edited");
        assertPrefixCutAgrees("llama3", (PipelineTokenizer) TokenizerJson.fromJson(llama3, "llama3"));
    }

    @Test
    void aTextWithoutSpacesOrATokenizerWithoutWordsIsTokenizedWhole() throws IOException {
        PipelineTokenizer miniLm = (PipelineTokenizer) MiniLmTokenizerFile.load();
        String cjk = "\u4e2d\u6587".repeat(20_000);
        assertEquals(miniLm.tokenize(cjk).size(), miniLm.tokenize(cjk, 10).size(), "no space to cut at");
        String noPreTokenizer = """
                {"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1, "##a": 2}},
                 "pre_tokenizer": null}""";
        PipelineTokenizer whole = (PipelineTokenizer) TokenizerJson.fromJson(noPreTokenizer, "test");
        String text = "a ".repeat(10_000);
        assertEquals(whole.tokenize(text).size(), whole.tokenize(text, 3).size(), "one word: nothing to cut at");
        String addedWithSpace = """
                {"added_tokens": [{"id": 3, "content": "a b", "special": false, "normalized": false}],
                 "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1, "b": 2}},
                 "pre_tokenizer": {"type": "WhitespaceSplit"}}""";
        PipelineTokenizer straddling = (PipelineTokenizer) TokenizerJson.fromJson(addedWithSpace, "test");
        String ab = "a b ".repeat(10_000);
        assertEquals(straddling.tokenize(ab).size(), straddling.tokenize(ab, 3).size(), "an added token with a space: no cut");
        assertEquals(-1, SpaceCut.find("x \u0301".repeat(3000), 0), "a space a mark joins is no cut");
        // NBSP + U+FF9E is one cluster, which XLM-R's precompiled map turns into a space: only ASCII ends a word here
        assertEquals(-1, SpaceCut.find("ab\u00a0\uff9e cd", 0));
        assertEquals(2, SpaceCut.find("ab cd", 0));
        assertEquals(-1, SpaceCut.find("\u0600a b", 0), "a Prepend char may join the char before the space");
    }

    /**
     * Found by review: configurations whose words join across the cut, so a prefix would tokenize differently; they
     * must be tokenized whole. The text's 31st id is the word that straddles the cut (x…x y…y, 161 chars: [UNK] whole,
     * or the added token), where a prefix would give x's word pieces.
     */
    @Test
    void configurationsThatJoinWordsAcrossTheCutAreTokenizedWhole() {
        String vocab = "\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": "
                + "{\"[UNK]\": 0, \"x\": 1, \"y\": 2, \"##x\": 3, \"##y\": 4}}, \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}";
        String joinsRuns = "{\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Replace\", \"pattern\":"
                + " {\"Regex\": \" +\"}, \"content\": \"\"}, {\"type\": \"BertNormalizer\"}]}, " + vocab + "}";
        String spaceOnceNormalized = "{\"added_tokens\": [{\"id\": 5, \"content\": \"" + "x".repeat(80) + "\\u037a" + "y".repeat(80)
                + "\", \"special\": false, \"normalized\": true}], \"normalizer\": {\"type\": \"Sequence\", \"normalizers\":"
                + " [{\"type\": \"NFKC\"}, {\"type\": \"BertNormalizer\", \"lowercase\": true}]}, " + vocab + "}";
        String text = ("z".repeat(150) + "\n").repeat(30) + "x".repeat(80) + " " + "y".repeat(80) + "\nhello world".repeat(1_000);
        String makesMetaspaceSeparatorForBert = joinsRuns.replace("\"content\": \"\"", "\"content\": \"\u2581\"");
        for (String json : List.of(joinsRuns, spaceOnceNormalized, makesMetaspaceSeparatorForBert)) {
            assertFirstIds((PipelineTokenizer) TokenizerJson.fromJson(json, "test"), text, 31);
        }
    }

    /** The same for Metaspace pipelines, on the tiny XLM-R tokenizer with its normalizer or added tokens changed. */
    @Test
    @SuppressWarnings("unchecked")
    void metaspaceConfigurationsThatMakeOrRemoveSeparatorsAreTokenizedWhole() throws IOException {
        String base = java.nio.file.Files.readString(Golden.path("xlmr-tiny-tokenizer/tokenizer.json"));
        Object precompiled = dev.rerank4j.io.Json.parseObject(base).get("normalizer");
        Map<String, Object> runsToMetaspace = Map.of("type", "Replace", "pattern", Map.of("Regex", " +"), "content", "\u2581");
        List<Map<String, Object>> configs = List.of(
                // ▁ removed after space runs became ▁: the words at the cut join
                Map.of("normalizer", Map.of("type", "Sequence", "normalizers", List.of(precompiled, runsToMetaspace,
                        Map.of("type", "Replace", "pattern", Map.of("String", "\u2581"), "content", "")))),
                // a space made from a letter before the cut, which the next step merges with the one at the cut
                Map.of("normalizer", Map.of("type", "Sequence", "normalizers", List.of(precompiled,
                        Map.of("type", "Replace", "pattern", Map.of("String", "q"), "content", " "),
                        Map.of("type", "Replace", "pattern", Map.of("Regex", " {2,}"), "content", " ")))),
                // a letter deleted between two spaces makes a run that the next step merges (third review)
                Map.of("normalizer", Map.of("type", "Sequence", "normalizers", List.of(precompiled,
                        Map.of("type", "Replace", "pattern", Map.of("String", "q"), "content", ""),
                        Map.of("type", "Replace", "pattern", Map.of("Regex", " {2,}"), "content", " ")))),
                // an added token that holds ▁ once normalized, matching across the cut
                Map.of("normalizer", Map.of("type", "Sequence", "normalizers", List.of(precompiled, runsToMetaspace)),
                        "added_tokens", List.of(Map.of("id", 1000L, "content", "hello\u2581world", "special", false, "normalized", true))));
        String text = "x".repeat(4_092) + " helloq world" + " tail".repeat(2_000);
        String deleted = "x".repeat(4_094) + " q world" + " tail".repeat(2_000); // the first cut is right after q
        for (Map<String, Object> change : configs) {
            Map<String, Object> root = new java.util.LinkedHashMap<>(dev.rerank4j.io.Json.parseObject(base));
            root.putAll(change);
            // Metaspace alone, as older XLM-R files have it: no WhitespaceSplit to drop a space left at the prefix's end
            root.put("pre_tokenizer", Map.of("type", "Metaspace", "replacement", "\u2581", "prepend_scheme", "always", "split", true));
            String json = dev.rerank4j.io.Json.write(root);
            assertFirstIds((PipelineTokenizer) TokenizerJson.fromJson(json, "test"), text, 31);
            assertFirstIds((PipelineTokenizer) TokenizerJson.fromJson(json, "test"), text.replace("helloq", "hello"), 31);
            assertFirstIds((PipelineTokenizer) TokenizerJson.fromJson(json, "test"), deleted, 31);
        }
    }

    private static void assertFirstIds(PipelineTokenizer t, String text, int budget) {
        int[] all = t.tokenize(text).toArray();
        int[] ids = t.tokenize(text, budget).toArray();
        assertArrayEquals(Arrays.copyOf(all, ids.length), ids);
        assertEquals(-1, SpaceCut.find("\u0600 b", 0), "after a Prepend char is no cut");
        assertEquals(1, SpaceCut.find("a b", 0));
    }
}
