package dev.rerank4j.backend.cpu;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where a backend's packed weights live: off the heap, 64-byte aligned, in one shared arena with a count of the bytes
 * held. {@link #close()} frees them all at once, so a service that swaps models gets the memory back when it closes the
 * old one, not when a GC happens to run (the heap knows nothing of this memory, and a container's limit counts it).
 * A shared arena is memory-safe even when closed under a running kernel: the kernel's next load fails with an
 * {@link IllegalStateException}; it never reads freed memory.
 *
 * <p>All backends of a JVM together hold at most -XX:MaxDirectMemorySize (default: the maximum heap), the cap the JDK
 * puts on its own off-heap buffers, which a shared arena's memory does not count against: without a cap, a model too
 * large for the machine would be packed until the kernel's OOM killer ended the JVM. At the cap, as the JDK does for
 * its buffers, the GC is asked for the memory of backends dropped without being closed, and the load waits for it
 * briefly before it is refused; the error then names the tensor, what is held so far, what models of each size need
 * and the flag to raise.
 */
final class OffHeapWeights implements AutoCloseable {
    /** Packed bytes that every open backend of this JVM holds. */
    private static final AtomicLong HELD_IN_JVM = new AtomicLong();
    /** -XX:MaxDirectMemorySize, else the maximum heap, as the JDK reads it for its own buffers. */
    private static final long LIMIT = maxDirectMemory();

    private final Arena arena;
    private final AtomicLong held = new AtomicLong();

    OffHeapWeights() {
        this(Arena.ofShared());
    }

    /** On {@code arena}, so that a test can make it refuse. */
    OffHeapWeights(Arena arena) {
        this.arena = arena;
    }

    /** Zeroed, 64-byte-aligned memory for tensor {@code name}'s packed copy. */
    MemorySegment allocate(String name, long bytes) {
        reserve(name, bytes);
        MemorySegment segment = null;
        try {
            segment = arena.allocate(bytes, 64);
        } catch (OutOfMemoryError e) {
            throw refused(name, bytes, e);
        } finally {
            if (segment == null) HELD_IN_JVM.addAndGet(-bytes); // refused, or the arena is closed
        }
        held.addAndGet(bytes);
        return segment;
    }

    /** Counts {@code bytes} against the JVM's cap, or refuses them once the GC has had its chance to free some. */
    private void reserve(String name, long bytes) {
        if (tryReserve(bytes)) return;
        System.gc(); // the Cleaner of a backend dropped without close() frees its weights once the GC has found it
        for (long sleepMs = 1; sleepMs <= 256; sleepMs *= 2) {
            if (tryReserve(bytes)) return;
            try {
                Thread.sleep(sleepMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // a load cancelled (the caller's code still sees the status), not refused memory
                throw new java.util.concurrent.CancellationException("the thread was interrupted while " + name
                        + "'s packed copy waited for the GC to free the weights of dropped rerankers, so the load stopped");
            }
        }
        if (tryReserve(bytes)) return;
        throw refused(name, bytes, new OutOfMemoryError(String.format(Locale.ROOT,
                "Cannot reserve %d bytes of packed weights (held by this JVM's models: %d, limit: %d)", bytes, HELD_IN_JVM.get(), LIMIT)));
    }

    private static boolean tryReserve(long bytes) {
        for (long now = HELD_IN_JVM.get(); now + bytes <= LIMIT; now = HELD_IN_JVM.get()) {
            if (HELD_IN_JVM.compareAndSet(now, now + bytes)) return true;
        }
        return false;
    }

    private OutOfMemoryError refused(String name, long bytes, OutOfMemoryError cause) {
        OutOfMemoryError refused = new OutOfMemoryError(String.format(Locale.ROOT,
                "cannot pack tensor %s: the JVM refused %s more native memory, with %s of this model's packed weights"
                        + " held so far (%s). A model's linear layers are packed off the heap as F32, 4 bytes a"
                        + " parameter (all-MiniLM-L6-v2: 42 MB, bge-reranker-base: 0.34 GB, bge-reranker-large and"
                        + " -v2-m3: 1.2 GB), and count against -XX:MaxDirectMemorySize, which defaults to the maximum heap"
                        + " size (-Xmx): raise either", name, size(bytes), size(held.get()), cause.getMessage()));
        refused.initCause(cause);
        return refused;
    }

    private static long maxDirectMemory() {
        try {
            long given = Long.parseLong(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .getVMOption("MaxDirectMemorySize").getValue());
            if (given > 0) return given;
        } catch (RuntimeException | LinkageError e) {
            // a runtime without jdk.management: the JDK's default
        }
        return Runtime.getRuntime().maxMemory();
    }

    /** Bytes of packed weights held. */
    long bytes() {
        return held.get();
    }

    /** Whether {@code segment} is memory this holds (or held, before {@link #close()}). */
    boolean holds(MemorySegment segment) {
        return segment.scope().equals(arena.scope());
    }

    /** Frees every packed weight; idempotent. */
    @Override
    public synchronized void close() {
        if (!arena.scope().isAlive()) return;
        arena.close();
        HELD_IN_JVM.addAndGet(-held.getAndSet(0));
    }

    /** Decimal units, as the model sizes above and the log's file sizes. */
    static String size(long bytes) {
        return bytes >= 1_000_000_000L ? String.format(Locale.ROOT, "%.2f GB", bytes / 1e9)
                : bytes >= 1_000_000L ? String.format(Locale.ROOT, "%.1f MB", bytes / 1e6)
                : String.format(Locale.ROOT, "%.1f KB", bytes / 1e3);
    }
}
