package dev.rerank4j.backend;

/**
 * The kernels of a pre-norm causal decoder with grouped-query attention, RMSNorm and a SwiGLU feed-forward (Qwen2, Qwen3),
 * which a {@link Backend} may offer besides its own; the CPU backend does, and a model that needs them refuses a backend
 * that does not ({@link MissingKernelException}).
 */
public interface DecoderKernels {
    /**
     * The residual step of a pre-norm layer, row by row: x ← x + delta (no add where delta is null), then
     * normed ← x · γ / √(mean(x²) + eps).
     */
    void addAndRmsNormalize(float[] x, float[] delta, int rows, int dim, float[] gamma, float eps, float[] normed);

    /**
     * Causal self-attention with grouped keys and values: qkv = x·Wᵀ + b, a row of [Q: heads | K: kvHeads | V: kvHeads] ×
     * headDim floats per token; every head of Q and K RMS-normed over its headDim dims (γ {@code qGamma}, {@code kGamma},
     * as {@link #addAndRmsNormalize}; Qwen3) or not (both null; Qwen2) and then rotated by its token's position in its
     * sequence ({@code rope}); token i
     * attends to the tokens 0..i of its sequence, query head h to key/value head h / (heads / kvHeads). {@code out}
     * receives heads · headDim floats per token, or, where {@code lastOnly}, one row per sequence: its last token's
     * (every sequence must then have one). {@code qkv} is work space.
     */
    void causalSelfAttention(float[] x, int[] seqStarts, LinearWeights w, float[] qGamma, float[] kGamma, float eps, RotaryTable rope,
                             float[] qkv, int heads, int kvHeads, int headDim, boolean lastOnly, float[] out);

    /**
     * The SwiGLU feed-forward: y = (SiLU(g) ⊙ u)·W_outᵀ, where [g | u] = x·W_inᵀ, g the first W_out.in() outputs and u
     * the rest (Qwen's gate_proj and up_proj stacked). {@code hidden} (rows × W_in.out() floats) and {@code gated}
     * (rows × W_out.in()) are work space.
     */
    void swiGluFeedForward(float[] x, int rows, LinearWeights in, LinearWeights out, float[] hidden, float[] gated, float[] y);
}
