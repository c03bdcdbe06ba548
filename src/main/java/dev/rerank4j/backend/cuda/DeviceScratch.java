package dev.rerank4j.backend.cuda;

import java.lang.foreign.MemorySegment;

/**
 * Per-call buffers kept between calls: a few device buffers and one page-locked host buffer, each grown
 * when a call needs more and never shrunk, so a steady workload allocates nothing per call (cuMemAlloc
 * and cuMemAllocHost synchronise the device and are slow). Not thread-safe: CudaBackend's lock guards it,
 * and CudaBackend waits for its stream before it grows a buffer or writes the host one.
 */
final class DeviceScratch {
    /** Device buffer slots; what each holds is up to the call. */
    static final int SLOTS = 5;
    private static final long MIN_BYTES = 1 << 20;

    private final CudaDriver cu;
    private final long[] device = new long[SLOTS];
    private final long[] deviceBytes = new long[SLOTS];
    private MemorySegment host;

    DeviceScratch(CudaDriver cu) {
        this.cu = cu;
    }

    /** Whether {@code slot} already holds {@code bytes}, so {@link #device} will not reallocate it. */
    boolean fits(int slot, long bytes) {
        return deviceBytes[slot] >= bytes;
    }

    /** Device buffer {@code slot}, at least {@code bytes} long; its old contents are not kept. */
    long device(int slot, long bytes) {
        if (deviceBytes[slot] < bytes) {
            long size = grown(deviceBytes[slot], bytes);
            if (device[slot] != 0) {
                long old = device[slot];
                device[slot] = 0;
                deviceBytes[slot] = 0;
                cu.memFree(old);
            }
            device[slot] = cu.memAlloc(size);
            deviceBytes[slot] = size;
        }
        return device[slot];
    }

    /** The page-locked host buffer, at least {@code bytes} long. */
    MemorySegment host(long bytes) {
        if (host == null || host.byteSize() < bytes) {
            long size = grown(host == null ? 0 : host.byteSize(), bytes);
            if (host != null) {
                MemorySegment old = host;
                host = null;
                cu.memFreeHost(old);
            }
            host = cu.memAllocHost(size);
        }
        return host;
    }

    /** Frees everything; the first failure is thrown after trying the rest. */
    void free() {
        RuntimeException failure = null;
        for (int s = 0; s < SLOTS; s++) {
            if (device[s] == 0) continue;
            long p = device[s];
            device[s] = 0;
            deviceBytes[s] = 0;
            try {
                cu.memFree(p);
            } catch (RuntimeException e) {
                if (failure == null) failure = e; else failure.addSuppressed(e);
            }
        }
        if (host != null) {
            MemorySegment h = host;
            host = null;
            try {
                cu.memFreeHost(h);
            } catch (RuntimeException e) {
                if (failure == null) failure = e; else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }

    /** At least 1 MiB and 1.5× the old size, so a slowly growing batch does not reallocate every call. */
    private static long grown(long old, long needed) {
        return Math.max(Math.max(needed, MIN_BYTES), old + old / 2);
    }
}
