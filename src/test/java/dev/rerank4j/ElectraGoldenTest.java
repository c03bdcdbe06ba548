package dev.rerank4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reproduces HF transformers' ElectraForSequenceClassification (the architecture of cross-encoder/ms-marco-electra-base)
 * on a tiny random model whose 24-wide embeddings are projected to its 32-wide encoder (tools/make_golden.py).
 */
class ElectraGoldenTest {
    /** The parity bar for fp32; observed differences are ~1e-6 (float accumulation order). */
    private static final double LOGIT_TOLERANCE = 1e-4;

    private static final Map<String, Object> GOLDEN = Golden.json("electra-tiny-ce.json");

    @Test
    void logitsAndSigmoidsMatchTransformersForEveryPairIncludingTruncatedOnes() throws IOException {
        Golden.assertCrossEncoderMatches("electra-tiny-ce", LOGIT_TOLERANCE);
    }

    @Test
    void oneBatchOfManyDocumentsKeepsTheCallersOrder() {
        Golden.OneQuery one = Golden.firstQueryWithItsDocs(GOLDEN, 64);
        String query = one.query();
        List<String> docs = one.docs();
        try (Reranker reranker = Reranker.load(Golden.path("electra-tiny-ce"),
                Golden.options().withMaxLength(64).withScoreFunction(Options.ScoreFunction.RAW).withBatchSize(2))) {
            float[] scores = reranker.score(query, docs);
            for (int i = 0; i < docs.size(); i++) assertEquals(one.logits()[i], scores[i], LOGIT_TOLERANCE, "doc " + i);
            assertTrue(reranker.description().get("encoder").contains("embeddings 24 wide, projected to 32"),
                    () -> reranker.description().toString());
        }
    }

    @Test
    void aMissingProjectionIsNamed(@TempDir Path dir) throws IOException {
        Path model = Golden.copyWithConfig("electra-tiny-ce", dir, "\"embedding_size\": 24", "\"embedding_size\": 32");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        // 32-wide tables asked of 24-wide ones: the shape check names the tensor
        assertTrue(e.getMessage().contains("electra.embeddings.word_embeddings.weight"), e.getMessage());
    }

    @Test
    void embeddingsWiderThanTheScratchHoldsAreRefused(@TempDir Path dir) throws IOException {
        Path model = Golden.copyWithConfig("electra-tiny-ce", dir, "\"embedding_size\": 24", "\"embedding_size\": 97");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains("embedding_size 97 is more than 3 × hidden_size 32"), e.getMessage());
    }

    @Test
    void anElectraHeadOnAnotherEncoderIsRefused(@TempDir Path dir) throws IOException {
        Path model = Golden.copyWithConfig("electra-tiny-ce", dir, "\"model_type\": \"electra\"", "\"model_type\": \"bert\"");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().contains("ELECTRA head but model_type is 'bert'"), e.getMessage());
    }
}
