package dev.rerank4j.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The {@code void** kernelParams} of cuLaunchKernel: one pointer per kernel parameter, each to a copy of
 * the value. Types must match the kernel's C signature exactly (pointers 8 bytes, int and float 4); the
 * driver copies the values at launch, so the arena may close as soon as the launch returns.
 */
final class KernelArgs {
    private final Arena arena;
    private final List<MemorySegment> values = new ArrayList<>();

    KernelArgs(Arena arena) {
        this.arena = arena;
    }

    /** A device pointer (CUdeviceptr); 0 is the kernel's nullptr. */
    KernelArgs pointer(long devicePtr) {
        MemorySegment v = arena.allocate(JAVA_LONG);
        v.set(JAVA_LONG, 0, devicePtr);
        values.add(v);
        return this;
    }

    KernelArgs i32(int value) {
        MemorySegment v = arena.allocate(JAVA_INT);
        v.set(JAVA_INT, 0, value);
        values.add(v);
        return this;
    }

    KernelArgs f32(float value) {
        MemorySegment v = arena.allocate(JAVA_FLOAT);
        v.set(JAVA_FLOAT, 0, value);
        values.add(v);
        return this;
    }

    MemorySegment array() {
        MemorySegment array = arena.allocate(ADDRESS, values.size());
        for (int i = 0; i < values.size(); i++) array.setAtIndex(ADDRESS, i, values.get(i));
        return array;
    }
}
