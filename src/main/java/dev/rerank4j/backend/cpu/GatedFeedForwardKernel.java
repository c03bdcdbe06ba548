package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;

/**
 * A gated feed-forward ({@link dev.rerank4j.backend.RotaryEncoderKernels#gatedFeedForward}'s GeGLU,
 * {@link dev.rerank4j.backend.DecoderKernels#swiGluFeedForward}'s SwiGLU): the first product, the gate over rows of the
 * hidden units, the second product; each step on every worker.
 */
final class GatedFeedForwardKernel {
    /** Gated units per work item of the gate, at least: below this, handing rows to another core costs more than it saves. */
    private static final int ITEM_ELEMENTS = 16 * 1024;

    private GatedFeedForwardKernel() {}

    /** Which half of the first product's row goes through which function. */
    enum Gate {
        /** [u | g] → GELU(u) ⊙ g (ModernBERT). */
        GELU,
        /** [g | u] → SiLU(g) ⊙ u (Qwen2 and Qwen3: gate_proj, then up_proj). */
        SILU
    }

    static void run(float[] x, int rows, PackedLinear in, PackedLinear out, Gate gate, float[] hidden, float[] gated, float[] y,
                    ParallelFor pf) {
        int width = out.in();
        GemmKernel.linear(x, rows, in, hidden, Activation.NONE, pf);
        int rowsPerItem = Math.max(1, ITEM_ELEMENTS / width), items = (rows + rowsPerItem - 1) / rowsPerItem;
        pf.forEach(items, (none, item) -> {
            for (int r = item * rowsPerItem, end = Math.min(rows, r + rowsPerItem); r < end; r++) {
                if (gate == Gate.GELU) VectorMath.geluGate(hidden, 2 * r * width, (2 * r + 1) * width, gated, r * width, width);
                else VectorMath.siluGate(hidden, 2 * r * width, (2 * r + 1) * width, gated, r * width, width);
            }
        });
        GemmKernel.linear(gated, rows, out, y, Activation.NONE, pf);
    }
}
