package dev.rerank4j.backend.cpu;

import java.util.function.Supplier;

/**
 * Worker scratch kept across calls: a worker takes one object for the length of a
 * {@link ParallelFor#forEach(int, ScratchPool, ParallelFor.Body)} and gives it back, so a kernel that runs
 * once per layer and batch allocates nothing once the first calls have filled the pool. Not tied to threads
 * (no ThreadLocal): the calling threads of a server would each keep their own buffers for as long as they live.
 * At most {@code capacity} idle objects are kept; workers beyond that allocate their own and drop them.
 */
final class ScratchPool<S> {
    /** Idle objects a kernel's pool keeps: two per core covers every worker of calls that keep the cores busy. */
    static final int PER_MACHINE = 2 * Runtime.getRuntime().availableProcessors();

    private final Supplier<S> factory;
    private final Object[] idle;
    private int count;

    ScratchPool(Supplier<S> factory, int capacity) {
        this.factory = factory;
        this.idle = new Object[capacity];
    }

    @SuppressWarnings("unchecked")
    S take() {
        synchronized (this) {
            if (count > 0) {
                S s = (S) idle[--count];
                idle[count] = null;
                return s;
            }
        }
        return factory.get();
    }

    synchronized void give(S s) {
        if (count < idle.length) idle[count++] = s;
    }
}
