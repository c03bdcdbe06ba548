package dev.rerank4j.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Runs {@code n} independent work items on a private pool. Items are handed out one at a time from a
 * shared counter rather than split up front: the machines we run on are shared and noisy, and a
 * static split leaves one core idle whenever the other is preempted.
 */
final class ParallelFor {
    /** A work item that may use the scratch object of the worker running it. */
    interface Body<S> {
        void run(S scratch, int item);
    }

    private final ForkJoinPool pool;
    private final int threads;

    ParallelFor(int threads) {
        this.threads = threads;
        this.pool = new ForkJoinPool(threads);
    }

    int threads() {
        return threads;
    }

    void forEach(int n, Body<Void> body) {
        forEach(n, () -> null, body);
    }

    /** {@code scratch} is called once per participating worker, so scratch is never shared. */
    <S> void forEach(int n, Supplier<S> scratch, Body<S> body) {
        if (n <= 0) return;
        AtomicInteger next = new AtomicInteger();
        run(Math.min(n, threads), () -> {
            S s = scratch.get();
            for (int i; (i = next.getAndIncrement()) < n; ) body.run(s, i);
        });
    }

    /** As above with scratch from {@code pool}: each participating worker takes one and gives it back when done. */
    <S> void forEach(int n, ScratchPool<S> pool, Body<S> body) {
        if (n <= 0) return;
        AtomicInteger next = new AtomicInteger();
        run(Math.min(n, threads), () -> {
            S s = pool.take();
            try {
                for (int i; (i = next.getAndIncrement()) < n; ) body.run(s, i);
            } finally {
                pool.give(s);
            }
        });
    }

    private void run(int workers, Runnable worker) {
        if (workers == 1) {
            worker.run();
            return;
        }
        // The caller works too, so one call keeps exactly `threads` cores busy.
        List<ForkJoinTask<?>> forked = new ArrayList<>(workers - 1);
        for (int w = 1; w < workers; w++) forked.add(pool.submit(worker));
        try {
            worker.run();
        } finally {
            for (ForkJoinTask<?> t : forked) t.join();
        }
    }

    void shutdown() {
        pool.shutdown();
    }
}
