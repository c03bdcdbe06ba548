package dev.rerank4j.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RaggedBatchTest {
    @Test
    void sequencesMustCoverTheTokensExactly() {
        assertEquals(2, new RaggedBatch(new int[10], new int[10], new int[] {0, 4, 10}).sequences());
        assertEquals(2, new RaggedBatch(new int[0], new int[0], new int[] {0, 0, 0}).sequences());
        assertThrows(IllegalArgumentException.class, () -> new RaggedBatch(new int[10], new int[10], new int[] {0, 4}));
        assertThrows(IllegalArgumentException.class, () -> new RaggedBatch(new int[10], new int[10], new int[] {3, 10}));
        assertThrows(IllegalArgumentException.class, () -> new RaggedBatch(new int[10], new int[10], new int[] {0, 6, 4, 10}));
        assertThrows(IllegalArgumentException.class, () -> new RaggedBatch(new int[10], new int[9], new int[] {0, 10}));
        assertThrows(IllegalArgumentException.class, () -> new RaggedBatch(new int[0], new int[0], new int[0]));
    }
}
