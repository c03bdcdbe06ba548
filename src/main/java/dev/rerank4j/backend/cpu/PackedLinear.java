package dev.rerank4j.backend.cpu;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A linear layer's weight W [out, in], repacked once at load time for {@link GemmKernel}: column
 * panels of {@link GemmKernel#NR} output columns, each stored k-major ({@code in} rows of NR floats),
 * so the micro-kernel reads two whole vectors per k with unit stride. The last panel is zero-padded,
 * which lets the kernel always run full-width; a tile past the last column or row writes through a buffer.
 * The bias is padded the same way (zeros when the layer has none).
 *
 * <p>Packed data lives off the heap ({@link OffHeapWeights}): a large model then needs no heap the size of its F32
 * weights, and F16/BF16 checkpoints are widened once here rather than per tile in the hot loop.
 */
record PackedLinear(String name, int in, int out, MemorySegment packed, float[] bias) implements LinearWeights {
    static final int NR = GemmKernel.NR;

    int panels() {
        return (out + NR - 1) / NR;
    }

    static PackedLinear pack(Tensor weight, Tensor bias, OffHeapWeights memory) {
        if (weight == null) throw new IllegalArgumentException("weight tensor is null");
        if (weight.rank() != 2) {
            throw new ModelFormatException("tensor " + weight.name() + ": expected a rank-2 weight [out, in], found shape "
                    + weight.shapeString());
        }
        long outL = weight.dim(0), inL = weight.dim(1);
        long panelsL = (outL + NR - 1) / NR;
        if (outL < 1 || inL < 1 || panelsL * NR * inL > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException("tensor " + weight.name() + ": shape " + weight.shapeString()
                    + " is empty or too large for the kernel's int indexing");
        }
        if (weight.data().byteSize() < weight.elementCount() * weight.dtype().byteSize()) {
            throw new ModelFormatException("tensor " + weight.name() + ": " + weight.data().byteSize()
                    + " bytes hold fewer than the " + weight.elementCount() + " elements its shape needs");
        }
        int out = (int) outL, in = (int) inL, panels = (int) panelsL;
        if (bias != null) {
            if (bias.rank() != 1 || bias.dim(0) != out) {
                throw new ModelFormatException("tensor " + bias.name() + ": expected a bias of shape [" + out
                        + "] to match weight " + weight.name() + ", found " + bias.shapeString());
            }
        }
        MemorySegment packed = memory.allocate(weight.name(), (long) panels * NR * in * Float.BYTES); // zeroed: the padding
        // Each panel is built in a heap buffer and copied out in bulk: per-element segment stores are slow
        // until C2 compiles them, and a model loads before that (measured: 6.7 s vs 0.5 s warm, bge-base BF16).
        float[] row = new float[in];
        short[] halves = new short[in];
        float[] panel = new float[NR * in];
        for (int p = 0; p < panels; p++) {
            java.util.Arrays.fill(panel, 0f);
            for (int c = 0; c < NR && p * NR + c < out; c++) {
                readRow(weight, p * NR + c, row, halves);
                for (int k = 0; k < in; k++) panel[k * NR + c] = row[k];
            }
            MemorySegment.copy(panel, 0, packed, ValueLayout.JAVA_FLOAT, (long) p * NR * in * Float.BYTES, panel.length);
        }
        float[] b = new float[panels * NR];
        if (bias != null) System.arraycopy(bias.toFloatArray(), 0, b, 0, out);
        return new PackedLinear(weight.name(), in, out, packed, b);
    }

    /**
     * Row {@code o} of W as F32. Half-precision rows are copied out in one bulk read and widened in a plain
     * loop: element-wise reads through {@link Tensor#get} made a BF16 bge-reranker-base load 7× slower than F32.
     */
    private static void readRow(Tensor w, int o, float[] row, short[] halves) {
        int in = row.length;
        long first = (long) o * in;
        if (w.dtype() == DType.F32) {
            MemorySegment.copy(w.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, first * 4, row, 0, in);
            return;
        }
        MemorySegment.copy(w.data(), ValueLayout.JAVA_SHORT_UNALIGNED, first * 2, halves, 0, in);
        if (w.dtype() == DType.BF16) {
            for (int k = 0; k < in; k++) row[k] = Float.intBitsToFloat(halves[k] << 16);
        } else {
            for (int k = 0; k < in; k++) row[k] = Float.float16ToFloat(halves[k]);
        }
    }

    @Override
    public String toString() {
        return "PackedLinear[" + name + ", out=" + out + ", in=" + in + "]";
    }
}
