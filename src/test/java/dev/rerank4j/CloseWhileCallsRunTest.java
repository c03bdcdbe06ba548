package dev.rerank4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A service that hot-reloads its model loads the new one, swaps it in and closes the old one while requests may still
 * be running on it. close() waits for those; a request that picked up the old reranker just before the swap must not
 * wait with it (for as long as the longest running call, deaf to its deadline's interrupt) only to fail anyway.
 */
class CloseWhileCallsRunTest {
    /** Enough documents that the tiny model's call runs until the test interrupts it. */
    private static final int MANY = 200_000;

    @Test
    void aCallMadeWhileCloseWaitsForRunningCallsFailsAtOnce() throws InterruptedException {
        Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"), Options.defaults().withBackend(Options.BackendChoice.CPU));
        List<String> many = Collections.nCopies(MANY, "berlin museum wall river");
        AtomicReference<Throwable> longCallEnded = new AtomicReference<>();
        Thread longCall = Thread.ofPlatform().start(() -> {
            try {
                reranker.score("where is berlin", many);
            } catch (Throwable t) {
                longCallEnded.set(t);
            }
        });
        Thread closer = null;
        Thread lateCall = null;
        AtomicReference<Throwable> lateCallEnded = new AtomicReference<>();
        try {
            awaitInside(longCall, "dev.rerank4j.Scorer"); // the call holds the reranker open
            closer = Thread.ofPlatform().start(reranker::close);
            awaitWaiting(closer, "ReentrantReadWriteLock$WriteLock.lock");

            lateCall = Thread.ofPlatform().start(() -> {
                try {
                    reranker.score("where is berlin", List.of("berlin"));
                } catch (Throwable t) {
                    lateCallEnded.set(t);
                }
            });
            while (lateCall.isAlive()) {
                if (lateCall.getState() == Thread.State.WAITING && stackOf(lateCall).contains("ReentrantReadWriteLock$ReadLock")) {
                    fail("a call made while close() waits waited too, for the call close() waits for");
                }
                Thread.onSpinWait();
            }
            assertTrue(longCall.isAlive(), "the running call is still running (else this test checked nothing)");
        } finally {
            longCall.interrupt();
            longCall.join();
            if (closer != null) closer.join();
            if (lateCall != null) lateCall.join();
        }
        Throwable late = lateCallEnded.get();
        assertInstanceOf(IllegalStateException.class, late);
        assertFalse(late instanceof CancellationException, late.toString());
        assertTrue(late.getMessage().contains("is closed"), late.getMessage());
        assertInstanceOf(CancellationException.class, longCallEnded.get(), "the interrupted running call was cancelled");
        IllegalStateException after = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> reranker.score("where is berlin", List.of("berlin")));
        assertEquals(late.getMessage(), after.getMessage(), "the same refusal as after close() returned");
    }

    /** Waits until {@code thread} runs code of {@code className}. */
    private static void awaitInside(Thread thread, String className) {
        while (Arrays.stream(thread.getStackTrace()).noneMatch(f -> f.getClassName().startsWith(className))) {
            if (!thread.isAlive()) fail(thread.getName() + " ended before it ran " + className);
            Thread.onSpinWait();
        }
    }

    /** Waits until {@code thread} is parked in a frame named {@code frame}. */
    private static void awaitWaiting(Thread thread, String frame) {
        while (thread.getState() != Thread.State.WAITING || !stackOf(thread).contains(frame)) {
            if (!thread.isAlive()) fail(thread.getName() + " ended before it waited in " + frame);
            Thread.onSpinWait();
        }
    }

    private static String stackOf(Thread thread) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement f : thread.getStackTrace()) sb.append(f.getClassName()).append('.').append(f.getMethodName()).append('\n');
        return sb.toString();
    }
}
