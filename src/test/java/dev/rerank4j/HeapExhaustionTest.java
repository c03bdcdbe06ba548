package dev.rerank4j;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.AbstractList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A call too large for the heap fails with the JVM's OutOfMemoryError and leaves the reranker as it was: the next call
 * scores as one made before it, and close() does not wait on anything the failed call left behind.
 */
class HeapExhaustionTest {
    @Test
    void aCallThatRunsOutOfHeapLeavesTheRerankerUsableAndClosable() throws Exception {
        ChildJvm.Result child = ChildJvm.run(List.of("-Xmx48m", "--add-modules", "jdk.incubator.vector"), Child.class,
                Duration.ofSeconds(60));
        List<String> lines = child.out().lines().toList();
        assertEquals(List.of("REFUSED java.lang.OutOfMemoryError", "SAME SCORES true", "CLOSED"), lines, child.all());
        assertEquals(0, child.exitCode(), child.all());
    }

    /**
     * Scores two documents, then 300,000 distinct ones (they fit the heap; their encodings do not: the error comes from
     * inside the call), then the two again, then closes.
     */
    static final class Child {
        public static void main(String[] args) {
            Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"),
                    Options.defaults().withBackend(Options.BackendChoice.CPU).withThreads(2));
            List<String> small = List.of("the river runs through the old town", "music and light");
            float[] before = reranker.score("where is the river", small);
            List<String> huge = new AbstractList<>() { // made on demand: the heap fills inside the call, not here
                @Override
                public String get(int i) {
                    return "a document about rivers, boats and the people who live by them, number " + i;
                }

                @Override
                public int size() {
                    return 300_000;
                }
            };
            try {
                reranker.score("where is the river", huge);
                System.out.println("SCORED");
            } catch (OutOfMemoryError e) {
                System.out.println("REFUSED " + e.getClass().getName());
            }
            System.out.println("SAME SCORES " + java.util.Arrays.equals(before, reranker.score("where is the river", small)));
            reranker.close();
            System.out.println("CLOSED");
        }
    }
}
