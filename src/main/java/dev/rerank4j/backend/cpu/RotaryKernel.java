package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.RotaryTable;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rotates Q and K in place by their tokens' positions (RoPE, {@link RotaryTable}), each element as transformers rounds
 * it: x_i·cos − x_{i+d/2}·sin, two products and a difference, no fused multiply-add.
 */
final class RotaryKernel {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int V = S.length();

    private RotaryKernel() {}

    /**
     * Q and K of sequences [from, to) of seqStarts, whose rows of qkv (3 · heads · headDim floats each) begin at row
     * {@code qkvRow} for sequence {@code from}'s first token; token t of a sequence is at position t.
     */
    static void rotate(float[] qkv, int qkvRow, int[] seqStarts, int from, int to, int heads, int headDim, RotaryTable rope) {
        int stride = 3 * heads * headDim, shift = qkvRow - seqStarts[from];
        for (int b = from; b < to; b++) {
            for (int t = seqStarts[b], p = 0; t < seqStarts[b + 1]; t++, p++) {
                int row = (t + shift) * stride;
                for (int h = 0; h < 2 * heads; h++) rotateHead(qkv, row + h * headDim, headDim, rope, p); // Q's heads, then K's
            }
        }
    }

    /** One head of {@code headDim} floats at {@code at}, rotated to {@code position}. */
    static void rotateHead(float[] x, int at, int headDim, RotaryTable rope, int position) {
        int half = headDim / 2, table = position * half, i = 0;
        float[] cos = rope.cos(), sin = rope.sin();
        for (int bound = half % V == 0 ? half : 0; i < bound; i += V) {
            FloatVector x1 = FloatVector.fromArray(S, x, at + i), x2 = FloatVector.fromArray(S, x, at + half + i);
            FloatVector c = FloatVector.fromArray(S, cos, table + i), s = FloatVector.fromArray(S, sin, table + i);
            x1.mul(c).sub(x2.mul(s)).intoArray(x, at + i);
            x2.mul(c).add(x1.mul(s)).intoArray(x, at + half + i);
        }
        for (; i < half; i++) {
            float x1 = x[at + i], x2 = x[at + half + i], c = cos[table + i], s = sin[table + i];
            x[at + i] = x1 * c - x2 * s;
            x[at + half + i] = x2 * c + x1 * s;
        }
    }
}
