package dev.rerank4j.backend.cpu;

import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/** Builds in-memory tensors the way safetensors would store them. */
final class TestTensors {
    private TestTensors() {}

    static Tensor of(String name, DType dtype, float[] values, long... shape) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * dtype.byteSize()]);
        for (int i = 0; i < values.length; i++) {
            switch (dtype) {
                case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, values[i]);
                case F16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(values[i]));
                case BF16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i,
                        (short) ((Float.floatToRawIntBits(values[i]) + 0x8000) >>> 16));
            }
        }
        return new Tensor(name, dtype, shape, seg);
    }

    static float[] random(Random rnd, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (rnd.nextFloat() * 2 - 1) * scale;
        return a;
    }
}
