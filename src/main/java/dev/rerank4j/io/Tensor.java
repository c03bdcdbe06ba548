package dev.rerank4j.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A named tensor whose bytes stay where they were mapped (little-endian, row-major).
 * Reading converts F16/BF16 to F32 on the fly.
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    public Tensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Element {@code i} in row-major order, as F32. */
    public float get(long i) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32, i);
            case F16 -> Float.float16ToFloat(data.getAtIndex(U16, i));
            case BF16 -> Float.intBitsToFloat((data.getAtIndex(U16, i) & 0xffff) << 16);
        };
    }

    /** Elements [from, from + count) in row-major order, as F32, into {@code dst} from {@code at}: one bulk copy for F32. */
    public void read(long from, int count, float[] dst, int at) {
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32, from * Float.BYTES, dst, at, count);
        } else {
            for (int i = 0; i < count; i++) dst[at + i] = get(from + i);
        }
    }

    /** A heap F32 copy: for small tensors (biases, norms) only. */
    public float[] toFloatArray() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor " + name + " has " + n + " elements, too many for an array");
        }
        float[] out = new float[(int) n];
        read(0, out.length, out, 0);
        return out;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
