package dev.rerank4j.backend;

import java.lang.foreign.MemorySegment;

/**
 * The argument checks every {@link Backend} makes before running a kernel, in one place so the CPU and CUDA
 * backends refuse exactly the same calls with the same messages. Kernels index arrays without checks of their
 * own (and a GPU kernel would read past a buffer), so these are what keep a bad call an exception.
 */
public final class BackendArguments {
    private BackendArguments() {}

    /** {@link Backend#linear}: x holds rows × in floats, y rows × out. */
    public static void linear(float[] x, int rows, LinearWeights w, float[] y, Activation activation) {
        if (activation == null) throw new IllegalArgumentException("activation is null (use Activation.NONE)");
        if (rows < 0) throw new IllegalArgumentException("rows must be ≥ 0, got " + rows);
        requireLength("x", x, (long) rows * w.in());
        requireLength("y", y, (long) rows * w.out());
        requireDistinct("x", x, "y", y);
    }

    /** {@link Backend#feedForward}: x holds rows × W_in's inputs, y rows × W_out's outputs, hidden hiddenFloats. */
    public static void feedForward(float[] x, int rows, LinearWeights in, LinearWeights out, float[] hidden, long hiddenFloats,
                                   float[] y, Activation activation) {
        if (activation == null) throw new IllegalArgumentException("activation is null (use Activation.NONE)");
        if (rows < 0) throw new IllegalArgumentException("rows must be ≥ 0, got " + rows);
        if (out.in() != in.out()) {
            throw new IllegalArgumentException("the second product takes " + out.in() + " inputs, the first gives " + in.out());
        }
        requireLength("x", x, (long) rows * in.in());
        requireLength("hidden", hidden, hiddenFloats);
        requireLength("y", y, (long) rows * out.out());
        requireDistinct("x", x, "hidden", hidden);
        requireDistinct("hidden", hidden, "y", y);
    }

    /** {@link Backend#addLayerNorm}. */
    public static void addLayerNorm(float[] x, float[] residual, int rows, int dim, float[] gamma, float[] beta, float eps) {
        if (rows < 0 || dim < 1) throw new IllegalArgumentException("bad rows/dim: " + rows + "/" + dim);
        requireLength("x", x, (long) rows * dim);
        if (residual != null) requireLength("residual", residual, (long) rows * dim);
        requireLength("gamma", gamma, dim);
        requireLength("beta", beta, dim);
        if (!(eps >= 0)) throw new IllegalArgumentException("eps must be ≥ 0, got " + eps);
    }

    /** {@link Backend#attention}: sequence starts that never decrease, key lengths within their sequences. */
    public static void attention(float[] qkv, int[] seqStarts, int[] keyLengths, int heads, int headDim, float[] out) {
        if (heads < 1 || headDim < 1) throw new IllegalArgumentException("bad heads/headDim: " + heads + "/" + headDim);
        requireSequences(seqStarts);
        long tokens = seqStarts[seqStarts.length - 1];
        requireLength("qkv", qkv, tokens * 3 * heads * headDim);
        requireLength("out", out, tokens * heads * headDim);
        requireDistinct("qkv", qkv, "out", out);
        if (keyLengths != null) {
            if (keyLengths.length != seqStarts.length - 1) {
                throw new IllegalArgumentException("keyLengths has " + keyLengths.length + " entries for "
                        + (seqStarts.length - 1) + " sequences");
            }
            for (int b = 0; b < keyLengths.length; b++) {
                int len = seqStarts[b + 1] - seqStarts[b];
                if (len > 0 && (keyLengths[b] < 1 || keyLengths[b] > len)) {
                    throw new IllegalArgumentException("keyLengths[" + b + "] = " + keyLengths[b] + " outside [1, " + len + "]");
                }
            }
        }
    }

    /** {@link Backend#selfAttention}: as the product into qkv, then attention. */
    public static void selfAttention(float[] x, int[] seqStarts, int[] keyLengths, LinearWeights w, float[] qkv, int heads,
                                     int headDim, float[] out) {
        attention(qkv, seqStarts, keyLengths, heads, headDim, out);
        if (w.out() != 3L * heads * headDim) {
            throw new IllegalArgumentException("fused Q, K, V weights need 3 · " + heads + " · " + headDim + " outputs, got " + w.out());
        }
        linear(x, seqStarts[seqStarts.length - 1], w, qkv, Activation.NONE);
    }

    /** {@link Backend#firstTokenSelfAttention}: as selfAttention, with one output row per sequence and none empty. */
    public static void firstTokenSelfAttention(float[] x, int[] seqStarts, LinearWeights w, float[] qkv, int heads, int headDim,
                                               float[] out) {
        if (heads < 1 || headDim < 1) throw new IllegalArgumentException("bad heads/headDim: " + heads + "/" + headDim);
        requireFirstTokens(seqStarts);
        if (w.out() != 3L * heads * headDim) {
            throw new IllegalArgumentException("fused Q, K, V weights need 3 · " + heads + " · " + headDim + " outputs, got " + w.out());
        }
        long tokens = seqStarts[seqStarts.length - 1];
        requireLength("x", x, tokens * w.in());
        requireLength("qkv", qkv, tokens * w.out());
        requireLength("out", out, (long) (seqStarts.length - 1) * heads * headDim);
        requireDistinct("x", x, "qkv", qkv);
        requireDistinct("qkv", qkv, "out", out);
    }

    /** {@link RotaryEncoderKernels#rotarySelfAttention}: as selfAttention, every sequence within the rotary table, every window with a key. */
    public static void rotarySelfAttention(float[] x, int[] seqStarts, int[] keyLengths, LinearWeights w, RotaryTable rope, int window,
                                           float[] qkv, int heads, int headDim, float[] out) {
        selfAttention(x, seqStarts, keyLengths, w, qkv, heads, headDim, out);
        if (rope == null) throw new IllegalArgumentException("rope is null");
        if (rope.headDim() != headDim) {
            throw new IllegalArgumentException("the rotary table is for heads of " + rope.headDim() + " dims, the heads have " + headDim);
        }
        if (window < 0) throw new IllegalArgumentException("window must be ≥ 0, got " + window);
        requireDistinct("x", x, "out", out);
        for (int b = 0; b + 1 < seqStarts.length; b++) {
            int length = seqStarts[b + 1] - seqStarts[b];
            if (length > rope.positions()) {
                throw new IllegalArgumentException("sequence " + b + " has " + length + " tokens, more than the " + rope.positions()
                        + " positions of the rotary table");
            }
            if (keyLengths != null && length > (long) keyLengths[b] + window) {
                throw new IllegalArgumentException("sequence " + b + "'s last tokens are more than the window of " + window
                        + " past its " + keyLengths[b] + " keys: they would attend to nothing");
            }
        }
    }

    /** {@link RelativeAttentionKernels#disentangledAttention}: distances within the rows, rows within the positions. */
    public static void disentangledAttention(float[] qkv, int[] seqStarts, float[] positions, int[] rows, int heads, int headDim,
                                             float[] out) {
        attention(qkv, seqStarts, null, heads, headDim, out);
        if (positions == null || rows == null || rows.length % 2 == 0) {
            throw new IllegalArgumentException("positions and an odd number of rows (one per distance) are needed");
        }
        long width = 3L * heads * headDim, positionRows = positions.length / width;
        for (int r : rows) {
            if (r < 0 || r >= positionRows) throw new IllegalArgumentException("row " + r + " is outside the " + positionRows + " position rows");
        }
        for (int b = 0; b + 1 < seqStarts.length; b++) {
            if (seqStarts[b + 1] - seqStarts[b] > (rows.length + 1) / 2) {
                throw new IllegalArgumentException("sequence " + b + " has " + (seqStarts[b + 1] - seqStarts[b]) + " tokens, more than the "
                        + (rows.length + 1) / 2 + " the relative positions cover");
            }
        }
    }

    /** {@link RotaryEncoderKernels#gatedFeedForward}: W_in gives twice the units W_out takes. */
    public static void gatedFeedForward(float[] x, int rows, LinearWeights in, LinearWeights out, float[] hidden, float[] gated,
                                        float[] y) {
        if (rows < 0) throw new IllegalArgumentException("rows must be ≥ 0, got " + rows);
        if (in.out() != 2L * out.in()) {
            throw new IllegalArgumentException("a gated feed-forward's first product gives twice the " + out.in()
                    + " inputs of the second, got " + in.out());
        }
        requireLength("x", x, (long) rows * in.in());
        requireLength("hidden", hidden, (long) rows * in.out());
        requireLength("gated", gated, (long) rows * out.in());
        requireLength("y", y, (long) rows * out.out());
        requireDistinct("x", x, "hidden", hidden);
        requireDistinct("hidden", hidden, "gated", gated);
        requireDistinct("gated", gated, "y", y);
    }

    /** {@link RotaryEncoderKernels#addAndNormalize}. */
    public static void addAndNormalize(float[] x, float[] delta, int rows, int dim, float[] gamma, float[] beta, float eps,
                                       float[] normed) {
        if (delta == null) throw new IllegalArgumentException("delta is null");
        addLayerNorm(x, delta, rows, dim, gamma, beta, eps);
        requireLength("normed", normed, (long) rows * dim);
        requireDistinct("x", x, "normed", normed);
        requireDistinct("delta", delta, "normed", normed);
    }

    /** {@link DecoderKernels#addAndRmsNormalize}. */
    public static void addAndRmsNormalize(float[] x, float[] delta, int rows, int dim, float[] gamma, float eps, float[] normed) {
        if (rows < 0 || dim < 1) throw new IllegalArgumentException("bad rows/dim: " + rows + "/" + dim);
        requireLength("x", x, (long) rows * dim);
        if (delta != null) requireLength("delta", delta, (long) rows * dim);
        requireLength("gamma", gamma, dim);
        requireLength("normed", normed, (long) rows * dim);
        if (!(eps >= 0)) throw new IllegalArgumentException("eps must be ≥ 0, got " + eps);
        requireDistinct("x", x, "normed", normed);
        if (delta != null) requireDistinct("delta", delta, "normed", normed);
    }

    /**
     * {@link DecoderKernels#causalSelfAttention}: W gives a row of (heads + 2·kvHeads) · headDim per token, heads a multiple
     * of kvHeads, every sequence within the rotary table, and with {@code lastOnly} a last token in each.
     */
    public static void causalSelfAttention(float[] x, int[] seqStarts, LinearWeights w, float[] qGamma, float[] kGamma, float eps,
                                           RotaryTable rope, float[] qkv, int heads, int kvHeads, int headDim, boolean lastOnly,
                                           float[] out) {
        if (heads < 1 || kvHeads < 1 || headDim < 1 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("bad heads/kvHeads/headDim: " + heads + "/" + kvHeads + "/" + headDim);
        }
        if (lastOnly) requireFirstTokens(seqStarts);
        else requireSequences(seqStarts);
        int seqs = seqStarts.length - 1;
        long tokens = seqStarts[seqs], width = (long) (heads + 2 * kvHeads) * headDim;
        if (w.out() != width) {
            throw new IllegalArgumentException("the Q/K/V product gives " + w.out() + " outputs, " + heads + " + 2 × " + kvHeads
                    + " heads of " + headDim + " need " + width);
        }
        requireLength("x", x, tokens * w.in());
        requireLength("qkv", qkv, tokens * width);
        requireLength("out", out, (lastOnly ? seqs : tokens) * heads * headDim);
        if ((qGamma == null) != (kGamma == null)) throw new IllegalArgumentException("qGamma and kGamma must both be given, or neither");
        if (qGamma != null) {
            requireLength("qGamma", qGamma, headDim);
            requireLength("kGamma", kGamma, headDim);
        }
        if (!(eps >= 0)) throw new IllegalArgumentException("eps must be ≥ 0, got " + eps);
        if (rope == null) throw new IllegalArgumentException("rope is null");
        if (rope.headDim() != headDim) {
            throw new IllegalArgumentException("the rotary table is for heads of " + rope.headDim() + " dims, the heads have " + headDim);
        }
        for (int b = 0; b < seqs; b++) {
            if (seqStarts[b + 1] - seqStarts[b] > rope.positions()) {
                throw new IllegalArgumentException("sequence " + b + " has " + (seqStarts[b + 1] - seqStarts[b]) + " tokens, more than the "
                        + rope.positions() + " positions of the rotary table");
            }
        }
        requireDistinct("x", x, "qkv", qkv);
        requireDistinct("x", x, "out", out);
        requireDistinct("qkv", qkv, "out", out);
    }

    private static void requireFirstTokens(int[] seqStarts) {
        requireSequences(seqStarts);
        for (int b = 0; b + 1 < seqStarts.length; b++) {
            if (seqStarts[b + 1] == seqStarts[b]) {
                throw new IllegalArgumentException("sequence " + b + " is empty: it has no first token to attend from");
            }
        }
    }

    private static void requireSequences(int[] seqStarts) {
        if (seqStarts == null || seqStarts.length < 1 || seqStarts[0] < 0) {
            throw new IllegalArgumentException("seqStarts must be non-empty and start at ≥ 0");
        }
        for (int b = 0; b + 1 < seqStarts.length; b++) {
            if (seqStarts[b + 1] < seqStarts[b]) {
                throw new IllegalArgumentException("seqStarts must not decrease: seqStarts[" + (b + 1) + "] = "
                        + seqStarts[b + 1] + " < " + seqStarts[b]);
            }
        }
    }

    /** {@link Backend#maxSim}: document offsets that never decrease, candidates among those documents. */
    public static void maxSim(float[] query, int queryTokens, float[] docs, int[] docOffsets, int[] candidates, int dim,
                              float[] scores) {
        if (queryTokens < 0 || dim < 1) throw new IllegalArgumentException("bad queryTokens/dim: " + queryTokens + "/" + dim);
        if (docOffsets == null || docOffsets.length < 1 || docOffsets[0] < 0) {
            throw new IllegalArgumentException("docOffsets must be non-empty and start at ≥ 0");
        }
        for (int k = 0; k + 1 < docOffsets.length; k++) {
            if (docOffsets[k + 1] < docOffsets[k]) {
                throw new IllegalArgumentException("docOffsets must not decrease at " + (k + 1));
            }
        }
        requireLength("query", query, (long) queryTokens * dim);
        requireLength("docs", docs, (long) docOffsets[docOffsets.length - 1] * dim);
        if (candidates == null) throw new IllegalArgumentException("candidates is null");
        for (int i = 0; i < candidates.length; i++) {
            if (candidates[i] < 0 || candidates[i] >= docOffsets.length - 1) {
                throw new IllegalArgumentException("candidates[" + i + "] = " + candidates[i] + " is not one of the "
                        + (docOffsets.length - 1) + " documents");
            }
        }
        requireLength("scores", scores, candidates.length);
    }

    /**
     * {@link Backend#maxSim(float[], int, MemorySegment, boolean, long[], int[], int, float[])}: the candidates' offsets
     * must rise and lie inside {@code docs} ({@code dim} values of 4 bytes, or 2 when {@code half}, per row). Only the
     * candidates' offsets are checked, so a call costs its candidates, not the corpus.
     */
    public static void maxSim(float[] query, int queryTokens, MemorySegment docs, boolean half, long[] docOffsets,
                              int[] candidates, int dim, float[] scores) {
        if (queryTokens < 0 || dim < 1) throw new IllegalArgumentException("bad queryTokens/dim: " + queryTokens + "/" + dim);
        if (docs == null || docOffsets == null || docOffsets.length < 1) {
            throw new IllegalArgumentException("docs and docOffsets must be given, docOffsets non-empty");
        }
        requireLength("query", query, (long) queryTokens * dim);
        if (candidates == null) throw new IllegalArgumentException("candidates is null");
        long rows = docs.byteSize() / ((half ? 2L : 4L) * dim);
        for (int i = 0; i < candidates.length; i++) {
            int c = candidates[i];
            if (c < 0 || c >= docOffsets.length - 1) {
                throw new IllegalArgumentException("candidates[" + i + "] = " + c + " is not one of the " + (docOffsets.length - 1) + " documents");
            }
            if (docOffsets[c] < 0 || docOffsets[c + 1] < docOffsets[c] || docOffsets[c + 1] > rows) {
                throw new IllegalArgumentException("document " + c + " has rows " + docOffsets[c] + " to " + docOffsets[c + 1]
                        + ", outside the " + rows + " rows of docs");
            }
        }
        requireLength("scores", scores, candidates.length);
    }

    private static void requireLength(String what, float[] a, long needed) {
        if (a == null) throw new IllegalArgumentException(what + " is null");
        if (a.length < needed) {
            throw new IllegalArgumentException(what + " holds " + a.length + " floats, needs " + needed);
        }
    }

    /**
     * Kernels read their input a block at a time while writing their output, so an output that is the input
     * would be overwritten before it is read (for some row counts and not others).
     */
    private static void requireDistinct(String inputName, float[] input, String outputName, float[] output) {
        if (input == output) {
            throw new IllegalArgumentException(outputName + " is " + inputName + ": this kernel does not run in place");
        }
    }
}
