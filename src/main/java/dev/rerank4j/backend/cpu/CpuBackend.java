package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.Tensor;

import java.lang.foreign.Arena;

/**
 * The pure-Java backend: Vector API kernels on a private ForkJoin pool of {@code threads} workers.
 * Thread-safe: prepared weights are immutable, and every call keeps its scratch to itself. One call
 * uses up to {@code threads} cores (the calling thread counts as one of them).
 */
public final class CpuBackend implements Backend {
    private final ParallelFor pf;
    /**
     * Holds every packed weight, off the heap; the GC frees them with the model. An auto arena rather than a
     * shared one: a shared arena's liveness check on every vector load made the M=1 GEMM 2.3× slower (measured).
     */
    private final Arena weights = Arena.ofAuto();
    private volatile boolean closed;

    public CpuBackend(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be ≥ 1, got " + threads);
        this.pf = new ParallelFor(threads);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public LinearWeights prepareLinear(Tensor weight, Tensor bias) {
        checkOpen();
        return PackedLinear.pack(weight, bias, weights);
    }

    @Override
    public void linear(float[] x, int rows, LinearWeights w, float[] y, Activation activation) {
        checkOpen();
        if (!(w instanceof PackedLinear p)) {
            throw new IllegalArgumentException("weights were not prepared by this backend: " + w);
        }
        if (activation == null) throw new IllegalArgumentException("activation is null (use Activation.NONE)");
        if (rows < 0) throw new IllegalArgumentException("rows must be ≥ 0, got " + rows);
        requireLength("x", x, (long) rows * p.in());
        requireLength("y", y, (long) rows * p.out());
        if (rows == 0) return;
        GemmKernel.linear(x, rows, p, y, activation, pf);
    }

    @Override
    public void addLayerNorm(float[] x, float[] residual, int rows, int dim, float[] gamma, float[] beta, float eps) {
        checkOpen();
        if (rows < 0 || dim < 1) throw new IllegalArgumentException("bad rows/dim: " + rows + "/" + dim);
        requireLength("x", x, (long) rows * dim);
        if (residual != null) requireLength("residual", residual, (long) rows * dim);
        requireLength("gamma", gamma, dim);
        requireLength("beta", beta, dim);
        if (!(eps >= 0)) throw new IllegalArgumentException("eps must be ≥ 0, got " + eps);
        LayerNormKernel.addLayerNorm(x, residual, rows, dim, gamma, beta, eps, pf);
    }

    @Override
    public void attention(float[] qkv, int[] seqStarts, int[] keyLengths, int heads, int headDim, float[] out) {
        checkOpen();
        if (heads < 1 || headDim < 1) throw new IllegalArgumentException("bad heads/headDim: " + heads + "/" + headDim);
        if (seqStarts == null || seqStarts.length < 1 || seqStarts[0] < 0) {
            throw new IllegalArgumentException("seqStarts must be non-empty and start at ≥ 0");
        }
        for (int b = 0; b + 1 < seqStarts.length; b++) {
            if (seqStarts[b + 1] < seqStarts[b]) {
                throw new IllegalArgumentException("seqStarts must not decrease: seqStarts[" + (b + 1) + "] = "
                        + seqStarts[b + 1] + " < " + seqStarts[b]);
            }
        }
        long tokens = seqStarts[seqStarts.length - 1];
        requireLength("qkv", qkv, tokens * 3 * heads * headDim);
        requireLength("out", out, tokens * heads * headDim);
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
        AttentionKernel.attention(qkv, seqStarts, keyLengths, heads, headDim, out, pf);
    }

    @Override
    public void maxSim(float[] query, int queryTokens, float[] docs, int[] docOffsets, int dim, float[] scores) {
        checkOpen();
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
        requireLength("scores", scores, docOffsets.length - 1);
        MaxSimKernel.maxSim(query, queryTokens, docs, docOffsets, dim, scores, pf);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        pf.shutdown();
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("CpuBackend is closed");
    }

    private static void requireLength(String what, float[] a, long needed) {
        if (a == null) throw new IllegalArgumentException(what + " is null");
        if (a.length < needed) {
            throw new IllegalArgumentException(what + " holds " + a.length + " floats, needs " + needed);
        }
    }
}
