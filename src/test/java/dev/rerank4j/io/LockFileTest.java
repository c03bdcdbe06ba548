package dev.rerank4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InterruptedIOException;
import java.nio.file.Files;
import dev.rerank4j.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LockFileTest {
    @TempDir
    Path dir;

    /** Threads holding one lock file, some through a second path to it (a linked directory), never overlap. */
    @Test
    void oneThreadAtATimeWhateverPathReachesTheFile() throws Exception {
        Path real = dir.resolve("locks/a.lock");
        Path linked = Files.createSymbolicLink(dir.resolve("alias"), Files.createDirectories(dir.resolve("locks"))).resolve("a.lock");
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        try (ExecutorService pool = Executors.newFixedThreadPool(6)) {
            List<Future<Integer>> calls = new ArrayList<>();
            for (int t = 0; t < 24; t++) {
                Path lock = t % 2 == 0 ? real : linked;
                calls.add(pool.submit(() -> LockFile.holding(lock, "a test", () -> {
                    most.accumulateAndGet(inside.incrementAndGet(), Math::max);
                    await(() -> Thread.sleep(2));
                    return inside.decrementAndGet();
                })));
            }
            for (Future<Integer> call : calls) call.get(30, TimeUnit.SECONDS);
        }
        assertEquals(1, most.get(), "threads inside at once");
    }

    @Test
    void aWaitingThreadCanBeInterrupted() throws Exception {
        Path lock = dir.resolve("b.lock");
        Throwable[] thrown = new Throwable[1];
        CountDownLatch done = new CountDownLatch(1);
        Thread holderThread = holdUntil(lock, done);
        Thread waiter = Thread.ofPlatform().start(() -> {
            try {
                LockFile.holding(lock, "the holder", () -> null);
            } catch (Throwable e) {
                thrown[0] = e;
            }
        });
        Thread.sleep(50);
        waiter.interrupt();
        waiter.join(10_000);
        done.countDown();
        holderThread.join(10_000);
        assertInstanceOf(InterruptedIOException.class, thrown[0]);
        assertTrue(thrown[0].getMessage().contains("waiting for the holder"), thrown[0].getMessage());
    }

    /**
     * Another process stays out while a thread of this JVM holds the lock, also after a second thread that waited for
     * it was interrupted: on Linux, closing any channel to the file drops this process's lock on it, so a waiter must
     * not have the file open.
     */
    @Test
    void anInterruptedWaiterDoesNotLetAnotherProcessIn() throws Exception {
        Path lock = dir.resolve("c.lock");
        CountDownLatch done = new CountDownLatch(1);
        Thread holderThread = holdUntil(lock, done);
        try {
            assertEquals("busy", otherProcessTries(lock), "while held");
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    LockFile.holding(lock, "the holder", () -> null);
                } catch (Exception expected) {
                    // interrupted
                }
            });
            Thread.sleep(100);
            waiter.interrupt();
            waiter.join(10_000);
            assertEquals("busy", otherProcessTries(lock), "after a waiter of this JVM was interrupted");
        } finally {
            done.countDown();
            holderThread.join(10_000);
        }
        assertEquals("taken", otherProcessTries(lock), "once released");
    }

    @Test
    void theHolderCannotTakeItAgain() throws Exception {
        Path lock = dir.resolve("d.lock");
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> LockFile.holding(lock, "outer", () -> LockFile.holding(lock, "inner", () -> null)));
        assertTrue(e.getMessage().contains("already held by this thread"), e.getMessage());
        assertEquals("taken", otherProcessTries(lock), "released after the failed nesting");
    }

    private static String otherProcessTries(Path lock) throws Exception {
        return ChildJvm.run(List.of(), LockFileChild.class, Duration.ofSeconds(60), lock.toString()).all().trim();
    }

    /** A thread that holds {@code lock} until {@code done} counts down; returns once it holds it. */
    private static Thread holdUntil(Path lock, CountDownLatch done) throws InterruptedException {
        CountDownLatch holding = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().start(() -> {
            try {
                LockFile.holding(lock, "a test", () -> {
                    holding.countDown();
                    await(done::await);
                    return null;
                });
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        holding.await();
        return holder;
    }

    private interface Blocking {
        void run() throws InterruptedException;
    }

    private static void await(Blocking blocking) throws InterruptedIOException {
        try {
            blocking.run();
        } catch (InterruptedException e) {
            throw new InterruptedIOException(e.getMessage());
        }
    }
}
