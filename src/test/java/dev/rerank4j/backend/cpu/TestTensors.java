package dev.rerank4j.backend.cpu;

import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/**
 * What kernel tests feed and check: in-memory tensors the way safetensors would store them, random arrays, the starts of
 * ragged sequences, and outputs against a double-precision twin.
 */
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

    /** The first token of each sequence of these lengths, and the total last: a ragged batch's seqStarts. */
    static int[] starts(int... lengths) {
        int[] starts = new int[lengths.length + 1];
        for (int b = 0; b < lengths.length; b++) starts[b + 1] = starts[b] + lengths[b];
        return starts;
    }

    /** Every element of actual within abs of expected's (NaN fails), naming the first that is not. */
    static void assertClose(double[] expected, float[] actual, double abs, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(actual[i] - expected[i]) <= abs)) {
                org.junit.jupiter.api.Assertions.fail(what + " at " + i + ": " + actual[i] + " vs " + expected[i]);
            }
        }
    }
}
