package dev.rerank4j.backend.cuda;

import dev.rerank4j.backend.LinearWeights;

/**
 * A linear layer's weights on the device: W [out, in] row-major as the checkpoint stores it (F32, BF16 or
 * F16, which picks the kernel) and the bias as F32 [out], or 0 when the layer has none. Device memory
 * belongs to {@code owner} and is freed when it closes.
 */
record DeviceLinear(CudaBackend owner, String name, int in, int out, Precision precision, long weight, long bias)
        implements LinearWeights {

    /** How W is stored on the device, which is how the checkpoint stores it. */
    enum Precision {
        F32, BF16, F16
    }

    @Override
    public String toString() {
        return "DeviceLinear[" + name + ", out=" + out + ", in=" + in + ", " + precision + "]";
    }
}
