package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.RotaryTable;

/**
 * {@link dev.rerank4j.backend.DecoderKernels#causalSelfAttention} after the Q/K/V product: every head of K, and of Q
 * (the last tokens' only, where only they are asked for), RMS-normed and rotated to its position in place, a sequence per
 * work item; then {@link AttentionKernel#causal}, the flash-style kernel with keys up to each query's own position.
 * A first version ran each query over all its keys on its own: at 6,084 tokens the K of a head (3 MB) came from memory for
 * every query, and a Qwen3-0.6B-shaped pair took 420 s.
 */
final class CausalAttentionKernel {
    private CausalAttentionKernel() {}

    static void run(float[] qkv, int[] seqStarts, float[] qGamma, float[] kGamma, float eps, RotaryTable rope, int heads, int kvHeads,
                    int headDim, boolean lastOnly, float[] out, ParallelFor pf) {
        int width = (heads + 2 * kvHeads) * headDim;
        pf.forEach(seqStarts.length - 1, (none, b) -> {
            int start = seqStarts[b], n = seqStarts[b + 1] - start;
            for (int t = 0; t < n; t++) {
                int row = (start + t) * width;
                if (!lastOnly || t == n - 1) {
                    for (int h = 0; h < heads; h++) prepare(qkv, row + h * headDim, headDim, qGamma, eps, rope, t);
                }
                for (int g = 0; g < kvHeads; g++) prepare(qkv, row + (heads + g) * headDim, headDim, kGamma, eps, rope, t);
            }
        });
        AttentionKernel.causal(qkv, seqStarts, heads, kvHeads, headDim, lastOnly, out, pf, AttentionKernel.QR);
    }

    /** A head of Q or K, in place: RMS-normed over its dims, then rotated to its position. */
    private static void prepare(float[] qkv, int at, int headDim, float[] gamma, float eps, RotaryTable rope, int position) {
        RmsNormKernel.normalize(qkv, at, headDim, gamma, eps, qkv, at);
        RotaryKernel.rotateHead(qkv, at, headDim, rope, position);
    }
}
