package dev.rerank4j.io;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TensorTest {
    /** read (one bulk copy for F32, element by element otherwise), from an offset into an offset, equals get exactly. */
    @Test
    void readMatchesGetElementByElement() {
        Random rnd = new Random(7);
        int n = 10_000;
        try (Arena arena = Arena.ofConfined()) {
            for (DType dt : DType.values()) {
                MemorySegment data = arena.allocate((long) n * dt.byteSize());
                for (int i = 0; i < n; i++) {
                    if (dt == DType.F32) data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) rnd.nextGaussian());
                    else data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) rnd.nextInt());
                }
                Tensor t = new Tensor("t", dt, new long[] {n}, data);
                float[] dst = new float[n];
                int from = 123, count = 9_000, at = 5;
                t.read(from, count, dst, at);
                for (int i = 0; i < count; i++) {
                    assertEquals(Float.floatToRawIntBits(t.get(from + i)), Float.floatToRawIntBits(dst[at + i]), dt + " element " + (from + i));
                }
                assertEquals(0f, dst[at - 1]);
                assertEquals(0f, dst[at + count]);
            }
        }
    }
}
