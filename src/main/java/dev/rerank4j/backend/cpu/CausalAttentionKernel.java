package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.RotaryTable;

/**
 * {@link dev.rerank4j.backend.DecoderKernels#causalSelfAttention} after the Q/K/V product: every head of K, and of Q
 * (the last tokens' only, where only they are asked for), RMS-normed (where there are norms) and rotated to its position
 * in place, 64 tokens a
 * work item; then {@link AttentionKernel#causal}, the flash-style kernel with keys up to each query's own position.
 * A first version ran each query over all its keys on its own: at 6,084 tokens the K of a head (3 MB) came from memory for
 * every query, and a Qwen3-0.6B-shaped pair took 420 s.
 */
final class CausalAttentionKernel {
    /**
     * Tokens a work item norms and rotates: a single 8,192-token pair split by sequence took about 20 ms a layer on one
     * thread (review, 2026-12-06).
     */
    private static final int TOKENS_PER_ITEM = 64;

    private CausalAttentionKernel() {}

    static void run(float[] qkv, int[] seqStarts, float[] qGamma, float[] kGamma, float eps, RotaryTable rope, int heads, int kvHeads,
                    int headDim, boolean lastOnly, float[] out, ParallelFor pf) {
        int width = (heads + 2 * kvHeads) * headDim, tokens = seqStarts[seqStarts.length - 1];
        pf.forEach((tokens + TOKENS_PER_ITEM - 1) / TOKENS_PER_ITEM, (none, item) -> {
            int from = item * TOKENS_PER_ITEM, to = Math.min(tokens, from + TOKENS_PER_ITEM);
            for (int t = from, b = sequenceOf(seqStarts, from); t < to; t++) {
                while (t >= seqStarts[b + 1]) b++;
                int row = t * width, position = t - seqStarts[b];
                if (!lastOnly || t == seqStarts[b + 1] - 1) {
                    for (int h = 0; h < heads; h++) prepare(qkv, row + h * headDim, headDim, qGamma, eps, rope, position);
                }
                for (int g = 0; g < kvHeads; g++) prepare(qkv, row + (heads + g) * headDim, headDim, kGamma, eps, rope, position);
            }
        });
        AttentionKernel.causal(qkv, seqStarts, heads, kvHeads, headDim, lastOnly, out, pf, AttentionKernel.Blocking.DEFAULT);
    }

    /** The sequence holding token t: the last b with seqStarts[b] ≤ t (empty sequences before it skipped). */
    private static int sequenceOf(int[] seqStarts, int t) {
        int lo = 0, hi = seqStarts.length - 2;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (seqStarts[mid] <= t) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /** A head of Q or K, in place: RMS-normed over its dims where there is a γ (Qwen3), then rotated to its position. */
    private static void prepare(float[] qkv, int at, int headDim, float[] gamma, float eps, RotaryTable rope, int position) {
        if (gamma != null) RmsNormKernel.normalize(qkv, at, headDim, gamma, eps, qkv, at);
        RotaryKernel.rotateHead(qkv, at, headDim, rope, position);
    }
}
