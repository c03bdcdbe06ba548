package dev.rerank4j.backend.cpu;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OffHeapWeightsTest {
    @Test
    void holdsAlignedZeroedMemoryAndCountsIt() {
        OffHeapWeights memory = new OffHeapWeights();
        MemorySegment a = memory.allocate("a", 100), b = memory.allocate("b", 4096);
        assertEquals(0, a.address() % 64);
        assertEquals(0, b.address() % 64);
        assertEquals(0, b.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 4095));
        assertEquals(4196, memory.bytes());
        assertEquals("4.2 KB", OffHeapWeights.size(memory.bytes()));
    }

    @Test
    void closeFreesEverythingAndLeavesNoSegmentReadable() {
        OffHeapWeights memory = new OffHeapWeights();
        MemorySegment a = memory.allocate("a", 256);
        assertTrue(memory.holds(a));
        assertFalse(new OffHeapWeights().holds(a), "another backend's memory");
        memory.close();
        assertEquals(0, memory.bytes());
        assertThrows(IllegalStateException.class, () -> a.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        memory.close(); // idempotent
    }

    @Test
    void aRefusalNamesTheTensorWhatIsHeldAndTheFlagToRaise() {
        OutOfMemoryError jdk = new OutOfMemoryError("Cannot reserve 3000000 bytes of direct buffer memory (allocated: 1500000, limit: 2000000)");
        OffHeapWeights memory = new OffHeapWeights(new RefusingArena(2_000_000, jdk));
        memory.allocate("encoder.layer.0.attention.self.qkv.weight", 1_500_000);
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> memory.allocate("encoder.layer.0.intermediate.dense.weight", 3_000_000));
        assertTrue(e.getMessage().startsWith("cannot pack tensor encoder.layer.0.intermediate.dense.weight: the JVM refused 3.0 MB"
                + " more native memory, with 1.5 MB of this model's packed weights held so far (Cannot reserve 3000000 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("-XX:MaxDirectMemorySize, which defaults to the maximum heap size (-Xmx)"), e.getMessage());
        assertSame(jdk, e.getCause());
        assertEquals(1_500_000, memory.bytes(), "what was refused is not counted");
    }

    /**
     * A load interrupted while it waits for the GC to free dropped rerankers' weights is cancelled, not refused memory
     * (which would tell the user to raise a flag).
     */
    @Test
    void anInterruptWhileWaitingForTheGcCancelsTheLoad() {
        OffHeapWeights memory = new OffHeapWeights();
        Thread.currentThread().interrupt();
        try {
            var e = assertThrows(java.util.concurrent.CancellationException.class, () -> memory.allocate("big", Long.MAX_VALUE / 2));
            assertTrue(e.getMessage().contains("big's packed copy waited for the GC"), e.getMessage());
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status stays set");
        } finally {
            Thread.interrupted();
        }
        assertEquals(0, memory.bytes());
        memory.allocate("small", 64); // nothing was left counted against the cap
    }

    /** Allocates from a confined arena up to {@code limit} bytes in all, then throws {@code refusal}. */
    private static final class RefusingArena implements Arena {
        private final Arena real = Arena.ofConfined();
        private final long limit;
        private final OutOfMemoryError refusal;
        private long used;

        RefusingArena(long limit, OutOfMemoryError refusal) {
            this.limit = limit;
            this.refusal = refusal;
        }

        @Override
        public MemorySegment allocate(long byteSize, long byteAlignment) {
            if (used + byteSize > limit) throw refusal;
            used += byteSize;
            return real.allocate(byteSize, byteAlignment);
        }

        @Override
        public MemorySegment.Scope scope() {
            return real.scope();
        }

        @Override
        public void close() {
            real.close();
        }
    }
}
