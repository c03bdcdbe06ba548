package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Self-attention's output for each sequence's first token only, straight from the layer's input x and its fused
 * [Q; K; V] weights, without any token's keys or values. For one head, with the first token's query q and the keys
 * k_j = W_k·x_j + b_k and values v_j = W_v·x_j + b_v of tokens j:
 * <ul>
 *   <li>q·k_j = x_j·(W_kᵀq) + q·b_k, whose last term is the same for every j, so softmax cancels it;</li>
 *   <li>Σ_j p_j·v_j = W_v·(Σ_j p_j·x_j) + b_v, since the p_j sum to 1.</li>
 * </ul>
 * So a head costs u = W_kᵀq/√d (times log₂e, as {@link AttentionKernel#scoreScale} has it) and W_v·z (d·H
 * multiply-adds each) and the scores x_j·u and z = Σ_j p_j·x_j (L·H each), where computing its keys and values took
 * 2·L·H·d: the last layer of a cross-encoder no longer computes the keys and values of every token, 1/6 of a layer's
 * products (a bge-reranker-base pair of 140 tokens: 330 of the 22,800 MFLOP it took with them; MiniLM-L6 at 128
 * tokens: 75 of 2,470; JarAB, MiniLM cross-encoder (c) 1.032, (a) 1.030, bge-base (c) 1.010). The rounding differs
 * from the full form's by the order of the sums only.
 *
 * <p>The weights are read as {@link PackedLinear} packs them (panels of NR output columns, k-major), so nothing is
 * prepared for this beyond the layer's own fused weights: W_kᵀq takes, for each input i, the dot product of a panel
 * row with the head's lanes of q; W_v·z is the GEMM's own direction (z[i] times a panel row). One work item is
 * one (sequence, head).
 */
final class FirstTokenAttentionKernel {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int V = S.length();
    private static final int NR = GemmKernel.NR;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /** The first tokens' rows of x and their Q rows: one per call in flight, taken by the calling thread. */
    private static final class FirstRows {
        float[] x = new float[0];
        float[] q = new float[0];
    }

    /** A worker's buffers, grown to the widest input and longest sequence seen. */
    private static final class Scratch {
        float[] u = new float[0];
        float[] z = new float[0];
        float[] scores = new float[0];
        /** One panel's lanes of q (scaled), zero outside the head; then a panel's sums of W_v·z. */
        final float[] lanes = new float[NR];
    }

    private static final ScratchPool<FirstRows> FIRST_ROWS = new ScratchPool<>(FirstRows::new, ScratchPool.PER_MACHINE);
    private static final ScratchPool<Scratch> SCRATCH = new ScratchPool<>(Scratch::new, ScratchPool.PER_MACHINE);

    private FirstTokenAttentionKernel() {}

    /** {@link dev.rerank4j.backend.Backend#firstTokenSelfAttention}, argument checks done. */
    static void run(float[] x, int[] seqStarts, PackedLinear w, int heads, int hd, float[] out, ParallelFor pf) {
        int seqs = seqStarts.length - 1, in = w.in(), n = w.out(), width = heads * hd;
        if (seqs == 0) return;
        FirstRows first = FIRST_ROWS.take();
        try {
            if (first.x.length < seqs * in) first.x = new float[seqs * in];
            if (first.q.length < seqs * n) first.q = new float[seqs * n];
            float[] firstX = first.x, q = first.q;
            for (int b = 0; b < seqs; b++) System.arraycopy(x, seqStarts[b] * in, firstX, b * in, in);
            // Q of the first tokens: the panels that hold Q columns (the last may hold K columns too, unused)
            GemmKernel.linear(firstX, GemmKernel.Layout.ROW_MAJOR, seqs, w, 0, (width + NR - 1) / NR, q,
                    GemmKernel.Layout.ROW_MAJOR, Activation.NONE, pf, GemmKernel.MR);
            float scale = AttentionKernel.scoreScale(hd);
            pf.forEach(seqs * heads, SCRATCH, (s, item) -> {
                int b = item / heads, h = item % heads;
                head(x, seqStarts[b], seqStarts[b + 1] - seqStarts[b], in, q, b * n + h * hd, w, width + h * hd,
                        2 * width + h * hd, hd, scale, out, b * width + h * hd, s);
            });
        } finally {
            FIRST_ROWS.give(first);
        }
    }

    /**
     * One head of one sequence: tokens [t0, t0 + len) of x (rows of {@code in}), its query at q[qAt, qAt + hd), its
     * keys' weights W_k output columns [kCol, kCol + hd) and its values' [vCol, vCol + hd) of w; the output goes to
     * out[outAt, outAt + hd).
     */
    private static void head(float[] x, int t0, int len, int in, float[] q, int qAt, PackedLinear w, int kCol, int vCol, int hd,
                             float scale, float[] out, int outAt, Scratch s) {
        if (s.u.length < in) {
            s.u = new float[in];
            s.z = new float[in];
        }
        int padded = (len + V - 1) / V * V;
        if (s.scores.length < padded) s.scores = new float[padded];
        float[] u = s.u, z = s.z, sc = s.scores;
        keyDirection(w, q, qAt, kCol, hd, scale, u, s.lanes);
        for (int j = 0; j < len; j++) sc[j] = dot(x, (t0 + j) * in, u, in);
        java.util.Arrays.fill(sc, len, padded, Float.NEGATIVE_INFINITY);
        float sum = VectorMath.exp2InPlace(sc, 0, padded, AttentionKernel.blockMax(sc, 0, padded));
        weightedRows(x, t0, len, in, sc, 1f / sum, z);
        valueOutput(w, z, vCol, hd, out, outAt, s.lanes);
    }

    /**
     * u[i] = scale · Σ_c q[qAt + c]·W[kCol + c, i]: for each input i, the head's lanes of q against each panel row
     * that holds them, summed across the lanes.
     */
    private static void keyDirection(PackedLinear w, float[] q, int qAt, int kCol, int hd, float scale, float[] u, float[] lanes) {
        int in = w.in();
        MemorySegment packed = w.packed();
        java.util.Arrays.fill(u, 0, in, 0f);
        for (int p = kCol / NR; p * NR < kCol + hd; p++) {
            for (int c = 0; c < NR; c++) {
                int col = p * NR + c;
                lanes[c] = col >= kCol && col < kCol + hd ? q[qAt + col - kCol] * scale : 0f;
            }
            FloatVector q0 = FloatVector.fromArray(S, lanes, 0), q1 = FloatVector.fromArray(S, lanes, V);
            long base = (long) p * NR * in * Float.BYTES;
            for (int i = 0; i < in; i++) {
                long at = base + (long) i * NR * Float.BYTES;
                FloatVector t = FloatVector.fromMemorySegment(S, packed, at, NATIVE).mul(q0);
                t = FloatVector.fromMemorySegment(S, packed, at + (long) V * Float.BYTES, NATIVE).fma(q1, t);
                u[i] += VectorMath.sum(t);
            }
        }
    }

    /** a[from, from + n) · u[0, n). */
    private static float dot(float[] a, int from, float[] u, int n) {
        int whole = n - n % V, i = 0;
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
        for (; i + 2 * V <= whole; i += 2 * V) {
            s0 = FloatVector.fromArray(S, a, from + i).fma(FloatVector.fromArray(S, u, i), s0);
            s1 = FloatVector.fromArray(S, a, from + i + V).fma(FloatVector.fromArray(S, u, i + V), s1);
        }
        if (i < whole) s0 = FloatVector.fromArray(S, a, from + i).fma(FloatVector.fromArray(S, u, i), s0);
        float sum = VectorMath.sum(s0.add(s1));
        for (i = whole; i < n; i++) sum += a[from + i] * u[i];
        return sum;
    }

    /** z[0, in) = inv · Σ_j p[j]·x[t0 + j], four vectors of z at a time over all rows. */
    private static void weightedRows(float[] x, int t0, int len, int in, float[] p, float inv, float[] z) {
        int whole = in - in % V, i = 0;
        for (; i + 4 * V <= whole; i += 4 * V) {
            FloatVector z0 = FloatVector.zero(S), z1 = FloatVector.zero(S), z2 = FloatVector.zero(S), z3 = FloatVector.zero(S);
            for (int j = 0, at = t0 * in + i; j < len; j++, at += in) {
                FloatVector e = FloatVector.broadcast(S, p[j]);
                z0 = FloatVector.fromArray(S, x, at).fma(e, z0);
                z1 = FloatVector.fromArray(S, x, at + V).fma(e, z1);
                z2 = FloatVector.fromArray(S, x, at + 2 * V).fma(e, z2);
                z3 = FloatVector.fromArray(S, x, at + 3 * V).fma(e, z3);
            }
            z0.mul(inv).intoArray(z, i);
            z1.mul(inv).intoArray(z, i + V);
            z2.mul(inv).intoArray(z, i + 2 * V);
            z3.mul(inv).intoArray(z, i + 3 * V);
        }
        for (; i < whole; i += V) {
            FloatVector z0 = FloatVector.zero(S);
            for (int j = 0, at = t0 * in + i; j < len; j++, at += in) z0 = FloatVector.fromArray(S, x, at).fma(FloatVector.broadcast(S, p[j]), z0);
            z0.mul(inv).intoArray(z, i);
        }
        for (; i < in; i++) {
            float sum = 0f;
            for (int j = 0; j < len; j++) sum += p[j] * x[(t0 + j) * in + i];
            z[i] = sum * inv;
        }
    }

    /** out[outAt + c] = Σ_i z[i]·W[vCol + c, i] + b[vCol + c] for c < hd, one panel of W_v's columns at a time. */
    private static void valueOutput(PackedLinear w, float[] z, int vCol, int hd, float[] out, int outAt, float[] lanes) {
        int in = w.in();
        MemorySegment packed = w.packed();
        float[] bias = w.bias();
        for (int p = vCol / NR; p * NR < vCol + hd; p++) {
            long base = (long) p * NR * in * Float.BYTES;
            // two chains per half-panel (even and odd inputs), so the FMAs' latency does not set the pace
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), b0 = FloatVector.zero(S), b1 = FloatVector.zero(S);
            int i = 0;
            for (; i + 1 < in; i += 2) {
                long at = base + (long) i * NR * Float.BYTES;
                FloatVector e = FloatVector.broadcast(S, z[i]), f = FloatVector.broadcast(S, z[i + 1]);
                a0 = FloatVector.fromMemorySegment(S, packed, at, NATIVE).fma(e, a0);
                a1 = FloatVector.fromMemorySegment(S, packed, at + (long) V * Float.BYTES, NATIVE).fma(e, a1);
                b0 = FloatVector.fromMemorySegment(S, packed, at + (long) NR * Float.BYTES, NATIVE).fma(f, b0);
                b1 = FloatVector.fromMemorySegment(S, packed, at + (long) (NR + V) * Float.BYTES, NATIVE).fma(f, b1);
            }
            if (i < in) {
                long at = base + (long) i * NR * Float.BYTES;
                FloatVector e = FloatVector.broadcast(S, z[i]);
                a0 = FloatVector.fromMemorySegment(S, packed, at, NATIVE).fma(e, a0);
                a1 = FloatVector.fromMemorySegment(S, packed, at + (long) V * Float.BYTES, NATIVE).fma(e, a1);
            }
            a0.add(b0).add(FloatVector.fromArray(S, bias, p * NR)).intoArray(lanes, 0);
            a1.add(b1).add(FloatVector.fromArray(S, bias, p * NR + V)).intoArray(lanes, V);
            for (int c = Math.max(vCol, p * NR); c < Math.min(vCol + hd, (p + 1) * NR); c++) out[outAt + c - vCol] = lanes[c - p * NR];
        }
    }
}
