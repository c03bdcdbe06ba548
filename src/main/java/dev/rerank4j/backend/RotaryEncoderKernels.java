package dev.rerank4j.backend;

/**
 * The kernels of a pre-norm encoder with rotary positions, local attention windows and a gated feed-forward
 * (ModernBERT), which a {@link Backend} may offer besides its own; the CPU and CUDA backends do, and a model that
 * needs them refuses one that does not.
 */
public interface RotaryEncoderKernels {
    /**
     * Self-attention with rotary positions: qkv = x·Wᵀ + b (a row of Q, K, V per token, as {@link Backend#attention}
     * takes them), Q and K rotated by each token's position in its sequence ({@code rope}), then every token attends to
     * the tokens of its sequence at most {@code window} positions away (|i − j| ≤ window; Integer.MAX_VALUE: all) among its
     * first {@code keyLengths[b]} (null: all; as in {@link Backend#attention}), of which every token's window must hold one.
     * {@code qkv} is work space; {@code out} receives heads · headDim floats per token.
     */
    void rotarySelfAttention(float[] x, int[] seqStarts, int[] keyLengths, LinearWeights w, RotaryTable rope, int window,
                             float[] qkv, int heads, int headDim, float[] out);

    /**
     * The gated (GeGLU) feed-forward: y = (GELU(u) ⊙ g)·W_outᵀ + b_out, where [u | g] = x·W_inᵀ + b_in, u the first
     * W_out.in() outputs and g the rest; GELU in its erf form. {@code hidden} (rows × W_in.out() floats) and
     * {@code gated} (rows × W_out.in()) are work space.
     */
    void gatedFeedForward(float[] x, int rows, LinearWeights in, LinearWeights out, float[] hidden, float[] gated, float[] y);

    /** The residual step of a pre-norm layer, row by row: x ← x + delta, then normed ← LayerNorm(x)·γ + β (biased variance). */
    void addAndNormalize(float[] x, float[] delta, int rows, int dim, float[] gamma, float[] beta, float eps, float[] normed);
}
