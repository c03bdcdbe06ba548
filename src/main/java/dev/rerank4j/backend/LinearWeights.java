package dev.rerank4j.backend;

/** A linear layer's weights in a backend's own layout; {@code out × in} plus an optional bias. */
public interface LinearWeights {
    int in();

    int out();
}
