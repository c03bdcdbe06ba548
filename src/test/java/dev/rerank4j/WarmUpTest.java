package dev.rerank4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Reranker#warmUp()} runs every kind of model, logs nothing, and leaves later scores as they are. */
class WarmUpTest {
    /** The warm instance's first call is compiled code; the cold one's may be interpreted, which rounds exp differently. */
    private static final float SAME_SCORE = 1e-5f;
    private static final List<String> DOCS = List.of("berlin has many museums", "paris is in france", "the wall fell in 1989");

    private static void assertWarmsUp(Path model) {
        float[] expected;
        try (Reranker cold = Reranker.load(model)) {
            expected = cold.score("where is berlin", DOCS);
        }
        try (Reranker warm = Reranker.load(model)) {
            Duration[] took = new Duration[1];
            assertEquals(List.of(), RerankerTest.warningsDuring(() -> took[0] = warm.warmUp()),
                    "documents within the maximum length: no truncation warning");
            assertTrue(took[0].toNanos() > 0);
            float[] scores = warm.score("where is berlin", DOCS);
            for (int i = 0; i < DOCS.size(); i++) assertEquals(expected[i], scores[i], SAME_SCORE, DOCS.get(i));
            // it runs the model: an interrupted thread's warm-up stops as a call does
            Thread.currentThread().interrupt();
            try {
                assertThrows(java.util.concurrent.CancellationException.class, warm::warmUp);
            } finally {
                Thread.interrupted();
            }
            warm.close();
            assertThrows(IllegalStateException.class, warm::warmUp);
        }
    }

    @Test
    void warmsUpACrossEncoder() {
        assertWarmsUp(Golden.path("bert-tiny-ce"));
    }

    @Test
    void warmsUpACausalReranker() {
        assertWarmsUp(Golden.path("qwen3-tiny-reranker"));
    }

    @Test
    void warmsUpAColbertModel() {
        assertWarmsUp(Golden.path("colbert-tiny"));
    }
}
