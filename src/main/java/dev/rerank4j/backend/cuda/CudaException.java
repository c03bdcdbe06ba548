package dev.rerank4j.backend.cuda;

/**
 * A CUDA driver call returned an error, or CUDA was requested and cannot be used. The message names the
 * call and the driver's error name and text, e.g. {@code cuInit failed: CUDA_ERROR_NO_DEVICE (no
 * CUDA-capable device is detected)}.
 */
public final class CudaException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int result;

    CudaException(String call, int result, String errorName, String errorText) {
        super(call + " failed: " + errorName + (errorText == null ? "" : " (" + errorText + ")"));
        this.call = call;
        this.result = result;
    }

    CudaException(String message) {
        super(message);
        this.call = null;
        this.result = 0;
    }

    /** The driver function that failed, e.g. "cuMemAlloc_v2"; null when no call failed. */
    public String call() {
        return call;
    }

    /** The CUresult it returned (0 when no call failed). */
    public int result() {
        return result;
    }
}
