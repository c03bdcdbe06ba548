package dev.rerank4j;

import org.junit.jupiter.api.Test;

import dev.rerank4j.io.DebertaConfig;
import java.io.IOException;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Reproduces transformers' DebertaV2ForSequenceClassification configured as DeBERTa-v3 (the architecture of
 * mixedbread-ai/mxbai-rerank-*-v1) on a tiny random model (tools/make_golden.py --only-deberta): disentangled attention
 * with content-to-position and position-to-content terms over 8 position buckets, so that most of the golden pairs'
 * distances fall in log-spaced buckets; no absolute positions, no token types.
 */
class DebertaGoldenTest {
    private static final double LOGIT_TOLERANCE = 1e-4;

    @Test
    void logitsAndSigmoidsMatchTransformersForEveryPairIncludingTruncatedOnes() throws IOException {
        Golden.assertCrossEncoderMatches("deberta-tiny-ce", LOGIT_TOLERANCE);
    }

    /**
     * The relative-embedding row of every distance, for DeBERTa-v3's 256 buckets over 512 positions and the tiny model's
     * 8 over 64, against transformers' make_log_bucket_position (whose F32 logs decide the edges of the log buckets),
     * shifted and clamped to the 2 × span rows.
     */
    @Test
    void distanceBucketsAreTransformersOnes() {
        for (Object o : Golden.list(Golden.json("deberta-tiny-ce.json"), "log_buckets")) {
            Map<?, ?> table = (Map<?, ?>) o;
            int buckets = ((Number) table.get("position_buckets")).intValue(), positions = ((Number) table.get("max_relative_positions")).intValue();
            int first = ((Number) table.get("first_distance")).intValue();
            int[] expected = Golden.ints(table.get("buckets"));
            DebertaConfig config = new DebertaConfig(buckets, positions, buckets, true, true, true, false);
            for (int i = 0; i < expected.length; i++) {
                int distance = first + i;
                assertEquals(Math.clamp(expected[i] + buckets, 0, 2 * buckets - 1), config.row(distance),
                        "distance " + distance + " with " + buckets + " buckets over " + positions + " positions");
            }
        }
    }

    /**
     * A max_position_embeddings of 1.5 billion (no tensor has that many rows where positions are relative) loads and scores:
     * the distance table grows with the inputs rather than being made for every position at load.
     */
    @Test
    void aHugeMaxPositionEmbeddingsCostsNothingUntilInputsThatLongArrive(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws IOException {
        java.nio.file.Path model = Golden.copyWithConfig("deberta-tiny-ce", dir, "\"max_position_embeddings\": 64",
                "\"max_position_embeddings\": 1500000000");
        try (Reranker reranker = Reranker.load(model, Golden.options().withMaxLength(64))) {
            float score = reranker.score("how many people live in berlin?", java.util.List.of("Berlin has about 3.7 million inhabitants."))[0];
            org.junit.jupiter.api.Assertions.assertTrue(Float.isFinite(score), () -> "score " + score);
        }
    }
}
