package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.RotaryTable;

/**
 * {@link dev.rerank4j.backend.Backend#selfAttention}: the Q, K, V product and attention a group of sequences at a
 * time, both on one worker, so that the group's Q, K and V go from the product into a buffer of the worker's that
 * stays in its L2, and attention reads them from there. Over the whole batch, the product's rows (MiniLM: 4.6 KB a
 * token) go out to memory and attention reads them back. A probe on one thread, 16 sequences of 128 tokens at
 * MiniLM's shape, two copies at once as the two lanes of a call run: 1.058–1.066× the product and attention over
 * the whole batch, outputs bit-identical; groups of up to 64, 128 or 192 tokens, or random lengths of 32–268, all
 * 1.05–1.06×; bge-base's shape 1.010–1.015×. Grouped but into the batch's own qkv rows: 1.003×, since those stores
 * go out to memory too, so the buffer is what pays.
 *
 * <p>Groups are consecutive sequences of at most {@link #GROUP_BYTES} of Q, K and V together, a longer sequence a
 * group alone. With fewer than 8 groups for each worker available the call would end unevenly, and then the
 * product and attention each run on all workers. Inside a batch that runs side by side with others, one worker is
 * available, so a lane batch of 8 groups or more runs grouped.
 */
final class SelfAttentionKernel {
    /**
     * Q, K and V of a group: 640 KB, which with the group's x rows (a third of that) stays under a 1 MB L2. Groups of
     * up to 64, 128 and 192 of MiniLM's tokens (0.3–0.9 MB) measured alike in the probe.
     */
    static final int GROUP_BYTES = 640 * 1024;
    /**
     * A sequence past {@link #GROUP_BYTES} still goes through the buffer up to this size (MiniLM: 910 tokens): in the
     * probe, groups with 1.2 and 2.4 MB of Q, K, V still ran 1.047× and 1.035× the whole batch. A longer one, for
     * which a pooled buffer would hold on to a lot of memory, works in {@code qkv}'s rows.
     */
    static final int LONGEST_BUFFERED_BYTES = 4 << 20;

    private static final class Buffer {
        float[] qkv = new float[0];

        float[] qkv(int floats) {
            if (qkv.length < floats) qkv = new float[floats];
            return qkv;
        }
    }

    private static final ScratchPool<Buffer> BUFFERS = new ScratchPool<>(Buffer::new, ScratchPool.PER_MACHINE);

    private SelfAttentionKernel() {}

    static void selfAttention(float[] x, int[] seqStarts, int[] keyLengths, PackedLinear w, float[] qkv, int heads, int headDim,
                              float[] out, ParallelFor pf) {
        selfAttention(x, seqStarts, keyLengths, w, null, AttentionKernel.UNWINDOWED, qkv, heads, headDim, out, pf);
    }

    /**
     * As above, Q and K rotated by {@code rope} between the product and attention where it is not null, and each token
     * attending to the keys within {@code window} of it ({@link AttentionKernel#UNWINDOWED}: all).
     */
    static void selfAttention(float[] x, int[] seqStarts, int[] keyLengths, PackedLinear w, RotaryTable rope, int window,
                              float[] qkv, int heads, int headDim, float[] out, ParallelFor pf) {
        int seqs = seqStarts.length - 1;
        if (seqStarts[seqs] == 0) return;
        int width = w.out(), groupRows = groupRows(width);
        int[] groups = groups(seqStarts, groupRows);
        int count = groups.length - 1;
        if (count < 8 * pf.available()) {
            GemmKernel.linear(x, seqStarts[seqs], w, qkv, Activation.NONE, pf);
            if (rope != null) {
                pf.forEach(seqs, (none, b) -> RotaryKernel.rotate(qkv, seqStarts[b], seqStarts, b, b + 1, heads, headDim, rope));
            }
            AttentionKernel.attention(qkv, seqStarts, keyLengths, window, heads, headDim, out, pf, AttentionKernel.Blocking.DEFAULT);
            return;
        }
        pf.forEach(count, BUFFERS, (buffer, g) -> {
            int from = groups[g], to = groups[g + 1], r0 = seqStarts[from], r1 = seqStarts[to];
            long floats = (long) (r1 - r0) * width;
            boolean buffered = floats * Float.BYTES <= LONGEST_BUFFERED_BYTES;
            float[] q = buffered ? buffer.qkv((int) Math.max(floats, (long) groupRows * width)) : qkv;
            int qRow = buffered ? 0 : r0;
            GemmKernel.rowsHere(x, r0, r1, w, q, qRow);
            if (rope != null) RotaryKernel.rotate(q, qRow, seqStarts, from, to, heads, headDim, rope);
            AttentionKernel.attendHere(q, qRow, seqStarts, from, to, keyLengths, window, heads, headDim, out);
        });
    }

    /** Tokens a group may hold for Q, K and V rows of {@code width} floats; at least one. */
    static int groupRows(int width) {
        return Math.max(1, GROUP_BYTES / (Float.BYTES * width));
    }

    /**
     * Group g is sequences [groups[g], groups[g + 1]): consecutive ones while their tokens stay within
     * {@code groupRows}, a longer one alone. Empty sequences go with their neighbours.
     */
    static int[] groups(int[] seqStarts, int groupRows) {
        int seqs = seqStarts.length - 1;
        int[] bounds = new int[seqs + 1];
        int count = 0;
        for (int b = 0; b < seqs; ) {
            int e = b + 1;
            while (e < seqs && seqStarts[e + 1] - seqStarts[b] <= groupRows) e++;
            bounds[++count] = e;
            b = e;
        }
        return java.util.Arrays.copyOf(bounds, count + 1);
    }
}
