package dev.rerank4j.backend.cuda;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Device twins of the heap arrays a caller asked to keep on the device ({@code Backend.keepOnDevice}), so that
 * activations stay there from one kernel to the next instead of crossing the bus twice per kernel.
 *
 * <p>Each twin records how much of its array the device holds the truth for: floats {@code [0, valid)} are
 * current on the device, the rest in the heap array. A kernel reading more than {@code valid} floats first
 * uploads the difference; a kernel writing extends {@code valid}; {@code toHost} downloads {@code [0, valid)}
 * and hands the whole array back to the host ({@code valid = 0}). A twin whose array is collected frees its
 * device memory when the next array is kept on the device (or the twins are counted). Not thread-safe:
 * CudaBackend's lock guards it.
 */
final class ResidentArrays {
    /** A device copy of one array; weakly reachable from it, so the array's owner decides its life. */
    static final class Twin extends WeakReference<float[]> {
        final long pointer;
        final int length;
        int valid;

        private Twin(float[] array, ReferenceQueue<float[]> queue, long pointer) {
            super(array, queue);
            this.pointer = pointer;
            this.length = array.length;
        }
    }

    private final CudaDriver cu;
    /** Arrays have identity equality, so this is a weak identity map. */
    private final WeakHashMap<float[], Twin> byArray = new WeakHashMap<>();
    /** Strongly held until freed: a twin must outlive its array to be enqueued. */
    private final Set<Twin> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private final ReferenceQueue<float[]> collected = new ReferenceQueue<>();

    ResidentArrays(CudaDriver cu) {
        this.cu = cu;
    }

    /** Gives {@code array} a device twin (allocated now, holding nothing yet); a second call changes nothing. */
    void add(float[] array) {
        freeCollected();
        if (byArray.containsKey(array)) return;
        Twin twin = new Twin(array, collected, cu.memAlloc(Math.max(4L, 4L * array.length)));
        live.add(twin);
        byArray.put(array, twin);
    }

    /** The twin of {@code array}, or null when it was never added. */
    Twin of(float[] array) {
        return byArray.get(array);
    }

    /** Frees the twins of arrays that were collected. */
    void freeCollected() {
        for (Twin t; (t = (Twin) collected.poll()) != null; ) {
            if (live.remove(t)) cu.memFree(t.pointer);
        }
    }

    int size() {
        freeCollected();
        return live.size();
    }

    /** Frees every twin; the first failure is thrown after trying the rest. */
    void free() {
        List<Twin> all = new ArrayList<>(live);
        live.clear();
        byArray.clear();
        RuntimeException failure = null;
        for (Twin t : all) {
            try {
                cu.memFree(t.pointer);
            } catch (RuntimeException e) {
                if (failure == null) failure = e; else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }
}
