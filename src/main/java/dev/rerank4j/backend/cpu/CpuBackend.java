package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.BackendArguments;
import dev.rerank4j.backend.DecoderKernels;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.backend.RelativeAttentionKernels;
import dev.rerank4j.backend.RotaryEncoderKernels;
import dev.rerank4j.backend.RotaryTable;
import dev.rerank4j.io.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.function.ObjIntConsumer;
import java.util.function.Supplier;
import jdk.incubator.vector.FloatVector;

/**
 * The pure-Java backend: Vector API kernels on a private ForkJoin pool of {@code threads} workers.
 * Thread-safe: prepared weights are immutable, and every call keeps its scratch to itself. One call
 * uses up to {@code threads} cores (the calling thread counts as one of them).
 */
public final class CpuBackend implements Backend, RotaryEncoderKernels, RelativeAttentionKernels, DecoderKernels {
    /**
     * Frees the packed weights of a backend that became unreachable without being closed. Compiled code may treat
     * {@code this} as unreachable once a method no longer reads it, so each method whose kernel reads packed weights
     * keeps it reachable until the kernel returns: else the GC could free them under the kernel.
     */
    private static final Cleaner UNCLOSED = Cleaner.create(r -> {
        Thread t = new Thread(r, "rerank4j-weights-cleaner");
        t.setDaemon(true);
        return t;
    });
    /*
     * Runs the Vector API's reinterpretation once, before any kernel is compiled, so that the JDK classes its Java
     * fallback loads on first use (a heap segment and an int view of it) are loaded now. Until C2 has compiled the
     * kernels, that fallback is what runs, and it first ran in the middle of the first call, where loading those classes
     * broke what C2 had assumed while compiling the GEMM tile: it threw the tile away and compiled it again. First call
     * in a fresh JVM (8 example documents, eight runs each, alternating): MiniLM cross-encoder 1.7–2.7 s (median 2.5)
     * without this, 1.8–2.2 s (2.0) with it; all-MiniLM-L6-v2 2.1 → 1.8 s; the bge-reranker-base shape 4.4 → 3.5 s.
     */
    static {
        FloatVector.zero(VectorMath.S).reinterpretAsInts().reinterpretAsFloats();
    }
    private final ParallelFor pf;
    /** Every packed weight: {@link #close()} frees them. */
    private final OffHeapWeights weights = new OffHeapWeights();
    private volatile boolean closed;

    public CpuBackend(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be ≥ 1, got " + threads);
        this.pf = new ParallelFor(threads);
        UNCLOSED.register(this, weights::close);
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
        PackedLinear p = packed(w);
        BackendArguments.linear(x, rows, p, y, activation);
        if (rows == 0) return;
        GemmKernel.linear(x, rows, p, y, activation, pf);
        Reference.reachabilityFence(this); // until the kernel is done: see UNCLOSED
    }

    @Override
    public void feedForward(float[] x, int rows, LinearWeights in, Activation activation, LinearWeights out, float[] hidden,
                            float[] y) {
        checkOpen();
        BackendArguments.feedForward(x, rows, in, out, hidden, feedForwardHidden(rows, in.out()), y, activation);
        if (rows == 0) return;
        GemmKernel.feedForward(x, rows, packed(in), activation, packed(out), hidden, y, pf);
        Reference.reachabilityFence(this); // until the kernel is done: see UNCLOSED
    }

    /**
     * The hidden rows are blocked for the second product to read in place, and only calls too small to be fused
     * use them: see {@link GemmKernel#feedForward}. So MiniLM's work space stops at 1,151 rows on two threads
     * (7.1 MB, where a batch of 32 × 256 tokens took 50 MB).
     */
    @Override
    public int feedForwardHidden(int rows, int width) {
        return GemmKernel.Layout.floats(Math.min(rows, GemmKernel.fusedFromRows(width, pf.threads()) - 1), width);
    }

    private PackedLinear packed(LinearWeights w) {
        if (!(w instanceof PackedLinear p) || !weights.holds(p.packed())) {
            throw new IllegalArgumentException("weights were not prepared by this backend: " + w);
        }
        return p;
    }

    @Override
    public void addLayerNorm(float[] x, float[] residual, int rows, int dim, float[] gamma, float[] beta, float eps) {
        checkOpen();
        BackendArguments.addLayerNorm(x, residual, rows, dim, gamma, beta, eps);
        LayerNormKernel.addLayerNorm(x, residual, rows, dim, gamma, beta, eps, pf);
    }

    @Override
    public void attention(float[] qkv, int[] seqStarts, int[] keyLengths, int heads, int headDim, float[] out) {
        checkOpen();
        BackendArguments.attention(qkv, seqStarts, keyLengths, heads, headDim, out);
        AttentionKernel.attention(qkv, seqStarts, keyLengths, heads, headDim, out, pf);
    }

    @Override
    public void selfAttention(float[] x, int[] seqStarts, int[] keyLengths, LinearWeights w, float[] qkv, int heads, int headDim,
                              float[] out) {
        checkOpen();
        PackedLinear p = packed(w);
        BackendArguments.selfAttention(x, seqStarts, keyLengths, p, qkv, heads, headDim, out);
        SelfAttentionKernel.selfAttention(x, seqStarts, keyLengths, p, qkv, heads, headDim, out, pf);
        Reference.reachabilityFence(this); // until the kernel is done: see UNCLOSED
    }

    @Override
    public void firstTokenSelfAttention(float[] x, int[] seqStarts, LinearWeights w, float[] qkv, int heads, int headDim,
                                        float[] out) {
        checkOpen();
        PackedLinear p = packed(w);
        BackendArguments.firstTokenSelfAttention(x, seqStarts, p, qkv, heads, headDim, out);
        FirstTokenAttentionKernel.run(x, seqStarts, p, heads, headDim, out, pf);
        Reference.reachabilityFence(this); // until the kernel is done: see UNCLOSED
    }

    @Override
    public void rotarySelfAttention(float[] x, int[] seqStarts, int[] keyLengths, LinearWeights w, RotaryTable rope, int window,
                                    float[] qkv, int heads, int headDim, float[] out) {
        checkOpen();
        PackedLinear p = packed(w);
        BackendArguments.rotarySelfAttention(x, seqStarts, keyLengths, p, rope, window, qkv, heads, headDim, out);
        SelfAttentionKernel.selfAttention(x, seqStarts, keyLengths, p, rope, window, qkv, heads, headDim, out, pf);
        Reference.reachabilityFence(this); // until the kernel is done: see UNCLOSED
    }

    @Override
    public void disentangledAttention(float[] qkv, int[] seqStarts, float[] positions, int[] rows, boolean contentToPosition,
                                      boolean positionToContent, float scale, int heads, int headDim, float[] out) {
        checkOpen();
        BackendArguments.disentangledAttention(qkv, seqStarts, positions, rows, heads, headDim, out);
        DisentangledAttentionKernel.run(qkv, seqStarts, positions, rows, contentToPosition, positionToContent, scale, heads, headDim, out, pf);
    }

    @Override
    public void gatedFeedForward(float[] x, int rows, LinearWeights in, LinearWeights out, float[] hidden, float[] gated, float[] y) {
        checkOpen();
        BackendArguments.gatedFeedForward(x, rows, in, out, hidden, gated, y);
        if (rows == 0) return;
        GatedFeedForwardKernel.run(x, rows, packed(in), packed(out), GatedFeedForwardKernel.Gate.GELU, hidden, gated, y, pf);
        Reference.reachabilityFence(this); // until the kernel is done: see UNCLOSED
    }

    @Override
    public void swiGluFeedForward(float[] x, int rows, LinearWeights in, LinearWeights out, float[] hidden, float[] gated, float[] y) {
        checkOpen();
        BackendArguments.gatedFeedForward(x, rows, in, out, hidden, gated, y);
        if (rows == 0) return;
        GatedFeedForwardKernel.run(x, rows, packed(in), packed(out), GatedFeedForwardKernel.Gate.SILU, hidden, gated, y, pf);
        Reference.reachabilityFence(this); // until the kernel is done: see UNCLOSED
    }

    @Override
    public void addAndRmsNormalize(float[] x, float[] delta, int rows, int dim, float[] gamma, float eps, float[] normed) {
        checkOpen();
        BackendArguments.addAndRmsNormalize(x, delta, rows, dim, gamma, eps, normed);
        RmsNormKernel.addAndNormalize(x, delta, rows, dim, gamma, eps, normed, pf);
    }

    @Override
    public void causalSelfAttention(float[] x, int[] seqStarts, LinearWeights w, float[] qGamma, float[] kGamma, float eps,
                                    RotaryTable rope, float[] qkv, int heads, int kvHeads, int headDim, boolean lastOnly, float[] out) {
        checkOpen();
        PackedLinear p = packed(w);
        BackendArguments.causalSelfAttention(x, seqStarts, p, qGamma, kGamma, eps, rope, qkv, heads, kvHeads, headDim, lastOnly, out);
        int tokens = seqStarts[seqStarts.length - 1];
        if (tokens == 0) return;
        GemmKernel.linear(x, tokens, p, qkv, Activation.NONE, pf);
        CausalAttentionKernel.run(qkv, seqStarts, qGamma, kGamma, eps, rope, heads, kvHeads, headDim, lastOnly, out, pf);
        Reference.reachabilityFence(this); // until the kernel is done: see UNCLOSED
    }

    @Override
    public void addAndNormalize(float[] x, float[] delta, int rows, int dim, float[] gamma, float[] beta, float eps, float[] normed) {
        checkOpen();
        BackendArguments.addAndNormalize(x, delta, rows, dim, gamma, beta, eps, normed);
        LayerNormKernel.addAndNormalize(x, delta, rows, dim, gamma, beta, eps, normed, pf);
    }

    @Override
    public void maxSim(float[] query, int queryTokens, float[] docs, int[] docOffsets, int[] candidates, int dim,
                       float[] scores) {
        checkOpen();
        BackendArguments.maxSim(query, queryTokens, docs, docOffsets, candidates, dim, scores);
        long[] offsets = new long[docOffsets.length];
        for (int k = 0; k < offsets.length; k++) offsets[k] = docOffsets[k];
        MaxSimKernel.maxSim(query, queryTokens, MemorySegment.ofArray(docs), false, offsets, candidates, dim, scores, pf);
    }

    /** F32 rows in native memory (a mapped file, encodeDocuments' vectors) are read where they lie; F16 ones are widened {@link MaxSimKernel#STAGE_ROWS} rows at a time in the core's cache. */
    @Override
    public void maxSim(float[] query, int queryTokens, MemorySegment docs, boolean half, long[] docOffsets, int[] candidates,
                       int dim, float[] scores) {
        checkOpen();
        BackendArguments.maxSim(query, queryTokens, docs, half, docOffsets, candidates, dim, scores);
        MaxSimKernel.maxSim(query, queryTokens, docs, half, docOffsets, candidates, dim, scores, pf);
    }

    /**
     * The size of the packed weights this backend holds off the heap ("42.5 MB"), which count against
     * -XX:MaxDirectMemorySize.
     */
    public String packedWeights() {
        return OffHeapWeights.size(weights.bytes());
    }

    @Override
    public int lanes() {
        return pf.threads();
    }

    /** A kernel called from a task finds the pool busy with the tasks, so it runs on the task's own thread. */
    @Override
    public <S> void sideBySide(int tasks, Supplier<S> lane, ObjIntConsumer<S> task) {
        checkOpen();
        pf.forEach(tasks, lane, task::accept);
    }

    /**
     * Stops the workers and frees the packed weights at once. A call still running on another thread then fails with an
     * {@link IllegalStateException} at its next load of a weight ({@link OffHeapWeights}); a {@code Reranker} waits for
     * its calls before it closes its backend.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        pf.shutdown();
        weights.close();
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("CpuBackend is closed");
    }
}
