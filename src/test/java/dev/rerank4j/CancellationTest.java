package dev.rerank4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;

/**
 * An interrupted caller's call stops with CancellationException, keeps the interrupt status, and leaves the reranker
 * as it was: the next call scores as before. Both ways batches run are covered: one after another (few documents),
 * and side by side on the two threads' lanes (many documents), where a helper thread, not the caller, meets the check.
 */
class CancellationTest {
    /** The first calls may run interpreted code, which rounds exp differently from compiled code. */
    private static final float SAME_SCORE = 1e-5f;

    private static List<String> docs(int n) {
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < n; i++) docs.add("berlin museum wall number " + i + " ".repeat(i % 7) + "river".repeat(1 + i % 5));
        return docs;
    }

    private static void assertInterruptStops(Path model) {
        try (Reranker reranker = Reranker.load(model, Options.defaults().withThreads(2).withBackend(Options.BackendChoice.CPU))) {
            for (int n : new int[] {3, 200}) {
                List<String> docs = docs(n);
                float[] expected = reranker.score("where is berlin", docs);
                Thread.currentThread().interrupt();
                try {
                    CancellationException e = assertThrows(CancellationException.class, () -> reranker.score("where is berlin", docs));
                    assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
                    assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status stays set");
                } finally {
                    Thread.interrupted();
                }
                float[] again = reranker.score("where is berlin", docs);
                for (int i = 0; i < n; i++) assertEquals(expected[i], again[i], SAME_SCORE, n + " documents after a cancelled call");
            }
            assertFalse(Thread.currentThread().isInterrupted());
        }
    }

    @Test
    void stopsACrossEncoder() {
        assertInterruptStops(Golden.path("bert-tiny-ce"));
    }

    @Test
    void stopsAColbertModel() {
        assertInterruptStops(Golden.path("colbert-tiny"));
    }
}
