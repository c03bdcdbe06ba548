package dev.rerank4j.backend;

/**
 * DeBERTa's disentangled attention, which a {@link Backend} may offer besides its own; the CPU and CUDA backends do, and
 * a model that needs it refuses one that does not.
 */
public interface RelativeAttentionKernels {
    /**
     * Attention over {@code qkv} (as {@link Backend#attention} takes it) whose score for tokens i and j of a sequence,
     * at positions p_i and p_j, is (q_i·k_j + [c2p] q_i·pk_r + [p2c] k_j·pq_r) · scale, where r = {@code rows[p_i − p_j +
     * (rows.length − 1) / 2]} and pq_r, pk_r are the Q and K parts of row r of {@code positions} (laid out as qkv's rows:
     * the relative embeddings through the layer's Q, K, V projection). Sequences may be at most (rows.length + 1) / 2
     * tokens long; {@code out} receives heads · headDim floats per token.
     */
    void disentangledAttention(float[] qkv, int[] seqStarts, float[] positions, int[] rows, boolean contentToPosition,
                               boolean positionToContent, float scale, int heads, int headDim, float[] out);
}
