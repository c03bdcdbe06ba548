package dev.rerank4j.io;

import java.util.concurrent.CancellationException;

/**
 * How a call stops when its thread is interrupted (a request's deadline, {@code Future.cancel(true)}): each long step
 * (tokenizing, planning batches, each layer) checks, and throws {@link CancellationException} with the interrupt
 * status left set, so that the caller's code still sees it.
 */
public final class Cancellation {
    private Cancellation() {}

    /** Throws if {@code caller} (null: no one) was interrupted. */
    public static void stopIfInterrupted(Thread caller) {
        if (caller != null && caller.isInterrupted()) {
            throw new CancellationException("the calling thread was interrupted, so the call stopped (" + caller.getName()
                    + "'s interrupt status stays set)");
        }
    }

    /** Throws if the current thread was interrupted. */
    public static void stopIfInterrupted() {
        stopIfInterrupted(Thread.currentThread());
    }
}
