package dev.rerank4j;

import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.Json;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.model.CrossEncoder;
import dev.rerank4j.model.Model;
import dev.rerank4j.tokenize.Encoding;
import dev.rerank4j.tokenize.PairTruncation;
import dev.rerank4j.tokenize.Tokenizer;
import dev.rerank4j.tokenize.TokenizerJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The whole text path of an XLM-R reranker: the tiny XLM-R model with the tiny Unigram tokenizer, through
 * the facade. The logits themselves are checked against transformers in XlmRobertaGoldenTest (ids → logits);
 * this test pins that the facade feeds the model the pair FlagEmbedding would build.
 */
class XlmRobertaRerankerTest {
    /** Same ids, same kernels: only JIT-dependent rounding of exp can differ between the two paths. */
    private static final double SAME_LOGIT = 1e-5;

    @TempDir
    Path dir;

    @Test
    void scoresTextWithFlagEmbeddingsTruncation() throws IOException {
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.copy(Golden.path("xlmr-tiny-ce/" + f), dir.resolve(f));
        }
        Files.copy(Golden.path("xlmr-tiny-tokenizer/tokenizer.json"), dir.resolve("tokenizer.json"));
        String query = "where do the people of berlin go to see old paintings and sculptures on a rainy sunday afternoon "
                .repeat(3);
        String doc = "the museum island holds five museums with art and antiquities from many centuries. ".repeat(4);

        Tokenizer tokenizer = TokenizerJson.load(dir.resolve("tokenizer.json"));
        Encoding flag = tokenizer.encodePair(query, doc, 64, PairTruncation.FIRST_CAPPED_THEN_SECOND);
        Encoding longestFirst = tokenizer.encodePair(query, doc, 64, PairTruncation.LONGEST_FIRST);
        assertFalse(Arrays.equals(flag.ids(), longestFirst.ids()), "the two truncations differ on this pair");

        float expected;
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        try (SafeTensors weights = SafeTensors.open(dir.resolve("model.safetensors")); CpuBackend backend = new CpuBackend(2)) {
            CrossEncoder model = (CrossEncoder) Model.load(dir, config, weights, backend);
            expected = model.logits(List.of(flag), 1)[0];
        }
        try (Reranker reranker = Reranker.load(dir, Options.defaults().withScoreFunction(Options.ScoreFunction.RAW))) {
            assertEquals(64, reranker.maxLength(), "max_position_embeddings 66 - (pad_token_id + 1)");
            assertEquals("query to at most 3/4 of the length, then the passage (FlagEmbedding)", reranker.description().get("pairs cut"));
            assertEquals("64 tokens (" + dir.resolve("config.json") + ": max_position_embeddings)", reranker.description().get("max length"));
            List<Ranked> ranked = reranker.rank(query, List.of(doc, "berlin"), 2);
            Ranked first = ranked.stream().filter(r -> r.index() == 0).findFirst().orElseThrow();
            assertEquals(expected, first.score(), SAME_LOGIT);
            assertEquals(true, first.truncated());
        }
    }

    /** transformers' XLMRobertaConfig defaults pad_token_id to 1 (BertConfig to 0): positions start after it. */
    @Test
    void aMissingPadTokenIdIsXlmRobertasDefaultOne() throws IOException {
        Files.copy(Golden.path("xlmr-tiny-ce/model.safetensors"), dir.resolve("model.safetensors"));
        Files.copy(Golden.path("xlmr-tiny-tokenizer/tokenizer.json"), dir.resolve("tokenizer.json"));
        Map<String, Object> config = Json.parseObject(Files.readString(Golden.path("xlmr-tiny-ce/config.json")));
        assertEquals(1L, config.get("pad_token_id"), "the golden model uses the default");
        List<String> docs = List.of("the museum island holds five museums", "berlin");
        Files.writeString(dir.resolve("config.json"), Json.write(config));
        float[] expected;
        try (Reranker reranker = Reranker.load(dir)) {
            expected = reranker.score("where are museums", docs);
        }
        config.remove("pad_token_id");
        Files.writeString(dir.resolve("config.json"), Json.write(config));
        try (Reranker reranker = Reranker.load(dir)) {
            assertEquals(64, reranker.maxLength());
            assertArrayEquals(expected, reranker.score("where are museums", docs), 1e-6f);
        }
    }
}
