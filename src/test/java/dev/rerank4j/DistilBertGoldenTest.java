package dev.rerank4j;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reproduces transformers' DistilBertForSequenceClassification on a tiny random model (tools/make_golden.py
 * --only-distilbert): DistilBERT's tensor names, no token-type table (the tokenizer's pair template still numbers the
 * sides, and the model ignores them), a ReLU head.
 */
class DistilBertGoldenTest {
    private static final double LOGIT_TOLERANCE = 1e-4;

    @Test
    void logitsAndSigmoidsMatchTransformersForEveryPairIncludingTruncatedOnes() throws IOException {
        Golden.assertCrossEncoderMatches("distilbert-tiny-ce", LOGIT_TOLERANCE);
    }

    @Test
    void oneBatchOfManyDocumentsKeepsTheCallersOrder() {
        Golden.OneQuery one = Golden.firstQueryWithItsDocs(Golden.json("distilbert-tiny-ce.json"), 64);
        try (Reranker reranker = Reranker.load(Golden.path("distilbert-tiny-ce"),
                Golden.options().withMaxLength(64).withScoreFunction(Options.ScoreFunction.RAW).withBatchSize(2))) {
            float[] scores = reranker.score(one.query(), one.docs());
            for (int i = 0; i < one.docs().size(); i++) assertEquals(one.logits()[i], scores[i], LOGIT_TOLERANCE, "doc " + i);
            assertTrue(reranker.description().get("encoder").startsWith("distilbert, 2 layers, hidden 32, 4 heads, intermediate 64"),
                    () -> reranker.description().toString());
        }
    }
}
