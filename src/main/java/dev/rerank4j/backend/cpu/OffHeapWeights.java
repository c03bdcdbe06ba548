package dev.rerank4j.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where a backend's packed weights live: off the heap, 64-byte aligned, in an automatic arena (freed by the GC once the
 * model is unreachable), with a count of the bytes held. The JVM caps such memory at -XX:MaxDirectMemorySize, which
 * defaults to the maximum heap, so a large model in a small JVM is refused part way through packing; the error then
 * names the tensor, what is held so far, what models of each size need and the flag to raise, where the JDK's own
 * names neither the model nor the flag.
 *
 * <p>An automatic arena rather than a shared one: a shared arena's liveness check on every vector load made the M=1
 * GEMM 2.3× slower (measured). A model loaded again after the old one became unreachable gets the old one's memory
 * back: when the cap is reached, the JDK runs a GC and waits for the freed memory before it refuses.
 */
final class OffHeapWeights {
    private final Arena arena;
    private final AtomicLong held = new AtomicLong();

    OffHeapWeights() {
        this(Arena.ofAuto());
    }

    /** On {@code arena}, so that a test can make it refuse. */
    OffHeapWeights(Arena arena) {
        this.arena = arena;
    }

    /** Zeroed, 64-byte-aligned memory for tensor {@code name}'s packed copy. */
    MemorySegment allocate(String name, long bytes) {
        MemorySegment segment;
        try {
            segment = arena.allocate(bytes, 64);
        } catch (OutOfMemoryError e) {
            OutOfMemoryError refused = new OutOfMemoryError(String.format(Locale.ROOT,
                    "cannot pack tensor %s: the JVM refused %s more native memory, with %s of this model's packed weights"
                            + " held so far (%s). A model's linear layers are packed off the heap as F32, 4 bytes a"
                            + " parameter (all-MiniLM-L6-v2: 42 MB, bge-reranker-base: 0.34 GB, bge-reranker-large and"
                            + " -v2-m3: 1.2 GB), and count against -XX:MaxDirectMemorySize, which defaults to the maximum heap"
                            + " size (-Xmx): raise either", name, size(bytes), size(held.get()), e.getMessage()));
            refused.initCause(e);
            throw refused;
        }
        held.addAndGet(bytes);
        return segment;
    }

    /** Bytes of packed weights held. */
    long bytes() {
        return held.get();
    }

    /** Decimal units, as the model sizes above and the log's file sizes. */
    static String size(long bytes) {
        return bytes >= 1_000_000_000L ? String.format(Locale.ROOT, "%.2f GB", bytes / 1e9)
                : bytes >= 1_000_000L ? String.format(Locale.ROOT, "%.1f MB", bytes / 1e6)
                : String.format(Locale.ROOT, "%.1f KB", bytes / 1e3);
    }
}
