package dev.rerank4j.backend.cpu;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParallelForTest {
    /** Far longer than any of these calls needs; a lost wake-up or a deadlock hangs instead. */
    private static final Duration HANG = Duration.ofSeconds(60);

    private final ParallelFor pf = new ParallelFor(3);

    @AfterEach
    void shutDown() {
        assertTimeoutPreemptively(HANG, pf::shutdown, "shutdown waits for a job in flight; a lost job hangs it");
    }

    @Test
    void runsEveryItemExactlyOnceCallAfterCall() {
        assertTimeoutPreemptively(HANG, () -> {
            for (int call = 0; call < 2_000; call++) {
                int n = 1 + call % 37;
                AtomicIntegerArray runs = new AtomicIntegerArray(n);
                pf.forEach(n, (s, i) -> runs.incrementAndGet(i));
                for (int i = 0; i < n; i++) assertEquals(1, runs.get(i), "call " + call + ", item " + i);
                // let the helpers go idle now and then, so parked helpers get woken too
                if (call % 400 == 0) Thread.sleep(2 * ParallelFor.SPIN_NANOS / 1_000_000 + 5);
            }
        });
    }

    @Test
    void aJobTakenBackFromAHelperNeverRunsAfterTheCallReturns() {
        // The caller takes its job back from helpers that have not started it: none may start it later.
        AtomicIntegerArray lateStarts = new AtomicIntegerArray(1);
        assertTimeoutPreemptively(HANG, () -> {
            for (int call = 0; call < 5_000; call++) {
                AtomicBoolean returned = new AtomicBoolean();
                pf.forEach(2, () -> {
                    if (returned.get()) lateStarts.incrementAndGet(0);
                    return null;
                }, (s, i) -> { });
                returned.set(true);
                if (call % 1_000 == 0) Thread.sleep(2 * ParallelFor.SPIN_NANOS / 1_000_000 + 5);
            }
            Thread.sleep(50);
        });
        assertEquals(0, lateStarts.get(0), "workers that started a job after its call had returned");
    }

    @Test
    void helpersTakeItemsBesideTheCaller() {
        Set<Thread> ran = ConcurrentHashMap.newKeySet();
        Thread caller = assertTimeoutPreemptively(HANG, () -> {
            pf.forEach(60, (s, i) -> {
                ran.add(Thread.currentThread());
                LockSupport.parkNanos(1_000_000); // 1 ms an item: every helper gets some
            });
            return Thread.currentThread();
        });
        assertEquals(3, ran.size(), "threads that ran items: " + ran);
        assertTrue(ran.contains(caller), "the caller works too");
    }

    @Test
    void eachWorkerGetsItsOwnScratch() {
        Set<Object> scratch = ConcurrentHashMap.newKeySet();
        Set<Thread> ran = ConcurrentHashMap.newKeySet();
        assertTimeoutPreemptively(HANG, () -> pf.forEach(60, Object::new, (s, i) -> {
            scratch.add(s);
            ran.add(Thread.currentThread());
            LockSupport.parkNanos(1_000_000);
        }));
        assertEquals(ran.size(), scratch.size(), "one scratch object per participating thread");
    }

    @Test
    void anItemsExceptionReachesTheCallerAndThePoolGoesOn() {
        IllegalStateException boom = new IllegalStateException("boom");
        for (int failing : new int[] {0, 17, 59}) {
            RuntimeException thrown = assertThrows(RuntimeException.class, () -> pf.forEach(60, (s, i) -> {
                LockSupport.parkNanos(100_000);
                if (i == failing) throw boom;
            }));
            assertSame(boom, thrown, "the item's own exception, item " + failing);
        }
        AtomicIntegerArray runs = new AtomicIntegerArray(10);
        assertTimeoutPreemptively(HANG, () -> pf.forEach(10, (s, i) -> runs.incrementAndGet(i)));
        for (int i = 0; i < 10; i++) assertEquals(1, runs.get(i));
    }

    @Test
    void concurrentCallersAllFinishWithEveryItemOnce() throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            assertTimeoutPreemptively(HANG, () -> {
                Future<?>[] done = new Future<?>[4];
                for (int c = 0; c < done.length; c++) {
                    done[c] = callers.submit(() -> {
                        for (int call = 0; call < 300; call++) {
                            AtomicIntegerArray runs = new AtomicIntegerArray(25);
                            pf.forEach(25, (s, i) -> runs.incrementAndGet(i));
                            for (int i = 0; i < 25; i++) assertEquals(1, runs.get(i));
                        }
                        return null;
                    });
                }
                for (Future<?> f : done) f.get();
            });
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void anItemMayCallForEachItself() {
        for (int round = 0; round < 200; round++) {
            AtomicIntegerArray runs = new AtomicIntegerArray(8 * 8);
            // the caller's first item nests at once, before a parked helper has woken for the outer job
            if (round % 50 == 0) LockSupport.parkNanos(2 * ParallelFor.SPIN_NANOS);
            assertTimeoutPreemptively(HANG, () -> pf.forEach(8, (s, outer) -> pf.forEach(8, (t, inner) -> runs.incrementAndGet(outer * 8 + inner))));
            for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i), "item " + i);
        }
    }

    /**
     * A call cancelled by an interrupt still waits for its helpers' share; park returns at once while the interrupt status
     * is set, so the caller used to poll its core for as long as that took instead of parking.
     */
    @Test
    void anInterruptedCallerWaitsForItsHelperParkedAndKeepsItsInterrupt() throws Exception {
        ParallelFor two = new ParallelFor(2);
        java.util.concurrent.CountDownLatch helperBusy = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        AtomicBoolean interruptKept = new AtomicBoolean();
        Thread caller = new Thread(() -> {
            Thread self = Thread.currentThread();
            two.forEach(2, (none, item) -> {
                if (Thread.currentThread() == self) {
                    while (helperBusy.getCount() > 0) Thread.onSpinWait(); // until the helper holds the other item
                } else {
                    helperBusy.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            });
            interruptKept.set(self.isInterrupted());
        });
        try {
            caller.start();
            helperBusy.await();
            caller.interrupt();
            Thread.sleep(50); // past SPIN_NANOS
            int polling = 0;
            for (int look = 0; look < 50; look++) {
                if (caller.getState() != Thread.State.WAITING) polling++;
                Thread.sleep(10);
            }
            assertEquals(0, polling, "looks at the interrupted caller that found it polling rather than parked");
        } finally {
            release.countDown();
            caller.join(HANG.toMillis());
            two.shutdown();
        }
        assertTrue(interruptKept.get(), "the caller's interrupt status is set again when forEach returns");
    }

    @Test
    void afterShutdownItemsRunOnTheCallingThread() {
        pf.shutdown();
        Set<Thread> ran = ConcurrentHashMap.newKeySet();
        Thread caller = assertTimeoutPreemptively(HANG, () -> {
            pf.forEach(20, (s, i) -> ran.add(Thread.currentThread()));
            return Thread.currentThread();
        });
        assertEquals(Set.of(caller), ran);
    }
}
