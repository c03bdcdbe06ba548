package dev.rerank4j.backend;

/** Element-wise functions fused into a linear layer's output. */
public enum Activation {
    NONE,
    /** GELU in the exact erf form, as HF's "gelu". */
    GELU,
    TANH
}
