package dev.rerank4j.io;

import java.util.Optional;

/** Element types rerank4j reads from safetensors. Compute is always F32. */
public enum DType {
    F32(4),
    F16(2),
    BF16(2);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }

    /** The dtype for a safetensors header name ("F32", "F16", "BF16"), empty for any other. */
    public static Optional<DType> fromSafetensorsName(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) return Optional.of(t);
        }
        return Optional.empty();
    }
}
