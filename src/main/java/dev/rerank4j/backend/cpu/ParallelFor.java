package dev.rerank4j.backend.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Runs {@code n} independent work items on the calling thread and {@code threads − 1} helper threads of its
 * own. Items are handed out one at a time from a shared counter rather than split up front: the machines we
 * run on are shared and noisy, and a static split leaves one core idle whenever the other is preempted.
 *
 * <p>A forward pass is a chain of short parallel kernels (one 139-token pair on MiniLM-L6: 67 of them, about
 * 0.25 ms each), so what it costs to wake a helper is paid 67 times per call. A ForkJoinPool's workers park
 * between kernels; helpers here poll for the next job for {@link #SPIN_NANOS} after each one before they park,
 * as ONNX Runtime's and OpenMP's thread pools do (`bench/run-ab`, minilm-ce (c), 300 pairs of calls: 1.06× per
 * call over the ForkJoinPool; (b), 100 docs × 128 tokens, 10 pairs of calls: 0.98×, within its spread).
 *
 * <p>One job runs on the helpers at a time. A call that finds them busy (another thread's call in flight)
 * runs its items on its own thread rather than wait, so concurrent calls always progress, and so does a
 * work item that itself calls {@code forEach}. Helpers end on {@link #shutdown}, or within
 * {@link #KEEP_ALIVE_NANOS} of this object becoming unreachable.
 */
final class ParallelFor {
    /** A work item that may use the scratch object of the worker running it. */
    interface Body<S> {
        void run(S scratch, int item);
    }

    /**
     * How long a helper (and a caller waiting for helpers) polls before parking. Longer than the gaps between
     * the kernels of one call (a few microseconds), far shorter than a user notices as load when idle.
     */
    static final long SPIN_NANOS = 200_000;
    /** How often a parked helper looks whether its pool is still reachable. */
    static final long KEEP_ALIVE_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final int threads;
    private final Helper[] helpers;
    /** Held while a job runs on the helpers. */
    private final ReentrantLock dispatch = new ReentrantLock();
    /** Set under {@link #dispatch}: no job is handed out after it. */
    private boolean stopped;

    ParallelFor(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be ≥ 1, got " + threads);
        this.threads = threads;
        this.helpers = new Helper[threads - 1];
        for (int i = 0; i < helpers.length; i++) {
            helpers[i] = new Helper(new WeakReference<>(this));
            Thread t = Thread.ofPlatform().daemon().name("rerank4j-cpu-" + (i + 1)).unstarted(helpers[i]);
            helpers[i].thread = t;
            t.start();
        }
    }

    int threads() {
        return threads;
    }

    /**
     * The workers a call made now would get: 1 while a job holds the helpers (a call from inside a work item,
     * or another thread's call in flight), else {@link #threads}. For sizing work only: it may be stale by the
     * time the call is made.
     */
    int available() {
        return dispatch.isLocked() ? 1 : threads;
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
        // tryLock alone would let a nested call on this thread hand the helpers a second job over the first
        if (workers == 1 || dispatch.isHeldByCurrentThread() || !dispatch.tryLock()) {
            worker.run();
            return;
        }
        try {
            if (stopped) {
                worker.run();
                return;
            }
            Job job = new Job(worker, workers - 1);
            for (int h = 0; h < workers - 1; h++) helpers[h].hand(job);
            Throwable failure = null;
            try {
                worker.run();
            } catch (Throwable t) {
                failure = t;
            }
            // A helper that has not started yet would find no item left: take the job back rather than wait for
            // it to wake (at a call's first kernel it is parked, and waking it takes 0.1-0.5 ms here).
            for (int h = 0; h < workers - 1; h++) {
                if (helpers[h].retract(job)) job.helperDone(null);
            }
            job.awaitHelpers();
            if (failure == null) failure = job.failure;
            else if (job.failure != null && job.failure != failure) failure.addSuppressed(job.failure);
            if (failure instanceof RuntimeException e) throw e;
            if (failure instanceof Error e) throw e;
            if (failure != null) throw new IllegalStateException(failure);
        } finally {
            dispatch.unlock();
        }
    }

    /** Stops the helpers once they finish what they run; later calls run on the calling thread alone. */
    void shutdown() {
        dispatch.lock(); // after the job in flight, if any
        try {
            stopped = true;
            for (Helper h : helpers) h.stop();
        } finally {
            dispatch.unlock();
        }
    }

    /** One forEach as the helpers see it: the worker loop to run, and who is still running it. */
    private static final class Job {
        final Runnable worker;
        final AtomicInteger running;
        final Thread caller = Thread.currentThread();
        volatile boolean callerParked;
        volatile Throwable failure;

        Job(Runnable worker, int helpers) {
            this.worker = worker;
            this.running = new AtomicInteger(helpers);
        }

        void helperDone(Throwable t) {
            if (t != null && failure == null) failure = t;
            if (running.decrementAndGet() == 0 && callerParked) LockSupport.unpark(caller);
        }

        /**
         * Polls, then parks, until every helper has finished its share. park returns at once while the caller's interrupt
         * status is set, so a cancelled call would spin its core until its helpers finish: the status is held aside
         * meanwhile and set again before returning, for the call's own check to see.
         */
        void awaitHelpers() {
            long start = System.nanoTime();
            boolean interrupted = false;
            while (running.get() != 0) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                    continue;
                }
                callerParked = true;
                interrupted |= Thread.interrupted();
                if (running.get() != 0) LockSupport.park(this);
                callerParked = false;
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /** A helper thread: takes the job it is handed, runs it, polls for the next one, then parks. */
    private static final class Helper implements Runnable {
        private static final VarHandle NEXT;

        static {
            try {
                NEXT = MethodHandles.lookup().findVarHandle(Helper.class, "next", Job.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** Weak, so that a pool nobody closed can still be collected, and its helpers then end. */
        private final WeakReference<ParallelFor> owner;
        Thread thread;
        /** The job handed to this helper and not yet taken; taken, or taken back by the caller, by compare-and-set. */
        private volatile Job next;
        private volatile boolean parked;
        private volatile boolean stopped;

        Helper(WeakReference<ParallelFor> owner) {
            this.owner = owner;
        }

        void hand(Job job) {
            next = job;
            if (parked) LockSupport.unpark(thread);
        }

        /** Takes {@code job} back if this helper has not taken it yet; then it never runs it. */
        boolean retract(Job job) {
            return NEXT.compareAndSet(this, job, null);
        }

        void stop() {
            stopped = true;
            LockSupport.unpark(thread);
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            while (true) {
                Job job = next;
                if (job != null) {
                    if (!NEXT.compareAndSet(this, job, null)) continue; // the caller took it back
                    Throwable failure = null;
                    try {
                        job.worker.run();
                    } catch (Throwable t) {
                        failure = t;
                    }
                    job.helperDone(failure);
                    idleSince = System.nanoTime();
                    continue;
                }
                if (stopped || owner.refersTo(null)) return; // shutdown hands out no job after setting stopped
                if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                    continue;
                }
                // Dekker with hand(): it writes next, then reads parked; this writes parked, then reads next.
                parked = true;
                if (next == null && !stopped) LockSupport.parkNanos(this, KEEP_ALIVE_NANOS);
                parked = false;
            }
        }
    }
}
