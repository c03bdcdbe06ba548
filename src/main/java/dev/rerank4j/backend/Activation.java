package dev.rerank4j.backend;

/** Element-wise functions fused into a linear layer's output. */
public enum Activation {
    NONE,
    /** GELU in the erf form, 0.5·x·(1 + erf(x/√2)), as HF's "gelu" (not the tanh approximation). */
    GELU,
    TANH,
    /** max(0, x), DistilBERT's classification head. */
    RELU
}
