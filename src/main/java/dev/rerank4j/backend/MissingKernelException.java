package dev.rerank4j.backend;

/**
 * A model needs kernels its backend does not have (a Qwen decoder on the CUDA backend): thrown at load, before any call,
 * naming the backend that can run it. {@code Reranker}'s AUTO choice then loads the model on the CPU.
 */
public final class MissingKernelException extends UnsupportedOperationException {
    private static final long serialVersionUID = 1L;

    public MissingKernelException(String message) {
        super(message);
    }
}
