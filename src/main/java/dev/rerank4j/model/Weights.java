package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.io.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/** Named, shape-checked access to a checkpoint's tensors under a prefix such as "bert.". */
final class Weights {
    private final SafeTensors file;
    private final String prefix;

    Weights(SafeTensors file, String prefix) {
        this.file = file;
        this.prefix = prefix;
    }

    /** The prefix under which {@code probe} exists, among the candidates; a clear error when none holds it. */
    static String detectPrefix(SafeTensors file, String probe, String... candidates) {
        for (String p : candidates) {
            if (file.contains(p + probe)) return p;
        }
        throw new ModelFormatException(file.file() + ": missing tensor '" + probe + "' (looked under prefixes "
                + Arrays.toString(candidates) + "; the file has " + file.names().size() + " tensors)");
    }

    SafeTensors file() {
        return file;
    }

    boolean has(String name) {
        return file.contains(prefix + name);
    }

    /** The tensor {@code prefix + name}, which must have exactly {@code expected} as its shape. */
    Tensor get(String name, long... expected) {
        Tensor t = file.tensor(prefix + legacyName(name));
        if (!Arrays.equals(t.shape(), expected)) {
            throw new ModelFormatException(file.fileOf(t.name()) + ": tensor '" + t.name() + "' has shape " + t.shapeString()
                    + " but config.json implies " + Arrays.toString(expected));
        }
        return t;
    }

    /**
     * {@code name}, or its old TensorFlow-era spelling when only that is stored: LayerNorm {@code gamma}
     * and {@code beta} for {@code weight} and {@code bias}, which transformers renames on load (and
     * transformers 5.3 writes).
     */
    private String legacyName(String name) {
        if (!name.contains("LayerNorm.") || file.contains(prefix + name)) return name;
        String legacy = name.endsWith(".weight") ? name.substring(0, name.length() - 6) + "gamma"
                : name.endsWith(".bias") ? name.substring(0, name.length() - 4) + "beta" : name;
        return file.contains(prefix + legacy) ? legacy : name;
    }

    /** A small tensor (norm, bias) as a heap array. */
    float[] vector(String name, long length) {
        return get(name, length).toFloatArray();
    }

    /**
     * An arena for the tensors a load makes (Q, K and V fused), which the backend packs and the load then frees: shared,
     * as every other segment the CPU kernels meet (the mapped file, the packed weights). C2 compiles the JDK's segment
     * access into the GEMM tile with the profile that every segment of the process has left in it, and a confined arena
     * there made the compiled tile fail a speculated loop predicate in the first call and be compiled twice more (first
     * call of all-MiniLM-L6-v2 on the 8 example documents in a fresh JVM, six runs each, alternating: 2.8–3.3 s with
     * confined arenas, 2.1–2.6 s with shared ones).
     */
    static Arena scratchArena() {
        return Arena.ofShared();
    }

    /** Stacks tensors along their first axis into one F32 tensor in {@code arena} (fuses Q, K and V). */
    static Tensor concatRows(Arena arena, String name, Tensor... parts) {
        long[] shape = parts[0].shape();
        long rows = 0;
        for (Tensor p : parts) {
            long[] s = p.shape();
            if (s.length != shape.length || !Arrays.equals(Arrays.copyOfRange(s, 1, s.length), Arrays.copyOfRange(shape, 1, shape.length))) {
                throw new ModelFormatException("cannot fuse '" + p.name() + "' " + p.shapeString() + " with '" + parts[0].name() + "' " + parts[0].shapeString());
            }
            rows += s[0];
        }
        shape[0] = rows;
        long total = 0;
        for (Tensor p : parts) total += p.elementCount();
        MemorySegment out = arena.allocate(ValueLayout.JAVA_FLOAT, total);
        long at = 0;
        for (Tensor p : parts) {
            long n = p.elementCount();
            if (p.dtype() == DType.F32) {
                MemorySegment.copy(p.data(), 0, out, at * Float.BYTES, n * Float.BYTES);
            } else {
                for (long i = 0; i < n; i++) out.setAtIndex(ValueLayout.JAVA_FLOAT, at + i, p.get(i));
            }
            at += n;
        }
        return new Tensor(name, DType.F32, shape, out);
    }
}
