package dev.rerank4j.backend.cuda;

import dev.rerank4j.backend.Activation;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The kernels of {@code kernels.ptx} (built from src/main/cuda/kernels.cu): loads the module into the
 * current context and launches each kernel with its own signature and geometry. Launches are queued on
 * the caller's stream and return at once; the caller synchronises.
 */
final class Kernels {
    static final String RESOURCE = "/dev/rerank4j/backend/cuda/kernels.ptx";

    /** Block sizes and tiles, as kernels.cu's launch bounds and tile macros have them. */
    static final int F32_TILE = 64, F32_WIDE_TILE = 128, F32_THREADS = 256;
    /**
     * The F32 GEMM takes 128 × 128 tiles once they make at least this many blocks (about one wave on the
     * largest GPUs): fewer, and the 64 × 64 kernel's four times as many blocks keep more multiprocessors busy.
     */
    static final int F32_WIDE_MIN_BLOCKS = 128;
    static final int TC_TILE = 32, TC_THREADS = 128;
    static final int LAYERNORM_THREADS = 256;
    static final int ATTENTION_THREADS = 128, ATTENTION_MAX_HEAD_DIM = 256;
    /** attention_tiled: heads of up to this many dims, this many queries per block. */
    static final int ATTENTION_TILED_MAX_HEAD_DIM = 128, ATTENTION_TILED_QUERIES = 16;
    static final int MAXSIM_THREADS = 256;
    /** rotary and gelu_gate: a thread per element. */
    static final int ELEMENTWISE_THREADS = 256;
    /** cuLaunchKernel's limit on gridDim.y and gridDim.z. */
    static final int MAX_GRID_Y = 65_535;

    private final CudaDriver cu;
    private final MemorySegment module;
    private final MemorySegment linearF32, linearF32Wide, linearBf16, linearF16, addLayerNorm, attention, attentionTiled, maxSim, rotary,
            geluGate, disentangledAttention;

    private Kernels(CudaDriver cu, MemorySegment module) {
        this.cu = cu;
        this.module = module;
        this.linearF32 = cu.moduleGetFunction(module, "linear_f32");
        this.linearF32Wide = cu.moduleGetFunction(module, "linear_f32_wide");
        this.linearBf16 = cu.moduleGetFunction(module, "linear_bf16_tc");
        this.linearF16 = cu.moduleGetFunction(module, "linear_f16_tc");
        this.addLayerNorm = cu.moduleGetFunction(module, "add_layernorm");
        this.attention = cu.moduleGetFunction(module, "attention");
        this.attentionTiled = cu.moduleGetFunction(module, "attention_tiled");
        this.maxSim = cu.moduleGetFunction(module, "max_sim");
        this.rotary = cu.moduleGetFunction(module, "rotary");
        this.geluGate = cu.moduleGetFunction(module, "gelu_gate");
        this.disentangledAttention = cu.moduleGetFunction(module, "disentangled_attention");
    }

    /** Loads the PTX into the current context (the driver JIT-compiles it for the device). */
    static Kernels load(CudaDriver cu) {
        byte[] ptx = ptx();
        MemorySegment module;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment image = a.allocate(ptx.length + 1L); // zeroed: the NUL cuModuleLoadData needs
            MemorySegment.copy(ptx, 0, image, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, ptx.length);
            module = cu.moduleLoadData(image);
        }
        try {
            return new Kernels(cu, module);
        } catch (RuntimeException e) {
            try {
                cu.moduleUnload(module);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    static byte[] ptx() {
        try (InputStream in = Kernels.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("missing resource " + RESOURCE + " (the rerank4j jar is incomplete)");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    void unload() {
        cu.moduleUnload(module);
    }

    /**
     * Refuses {@code rows} past what one launch of the linear kernel for {@code w} covers; checked before anything is
     * copied, so that a refused call changes nothing.
     */
    static void requireLinearRows(DeviceLinear w, int rows) {
        int tile = linearTile(w, rows);
        if (ceilDiv(rows, tile) > MAX_GRID_Y) {
            throw new IllegalArgumentException("the CUDA linear kernel takes at most " + (long) MAX_GRID_Y * tile
                    + " rows per call, got " + rows);
        }
    }

    /** The kernel's tile: tensor cores' for BF16 and F16; for F32 the wide tile where it still makes enough blocks. */
    private static int linearTile(DeviceLinear w, int rows) {
        if (w.precision() != DeviceLinear.Precision.F32) return TC_TILE;
        boolean wide = (long) ceilDiv(w.out(), F32_WIDE_TILE) * ceilDiv(rows, F32_WIDE_TILE) >= F32_WIDE_MIN_BLOCKS;
        return wide ? F32_WIDE_TILE : F32_TILE;
    }

    /**
     * y = act(x · Wᵀ + b) for {@code rows} rows, which the caller has checked ({@link #requireLinearRows}); the kernel
     * follows W's precision.
     */
    void linear(MemorySegment stream, DeviceLinear w, long x, long y, int rows, Activation act) {
        int tile = linearTile(w, rows);
        boolean tensorCores = tile == TC_TILE, wide = tile == F32_WIDE_TILE;
        int gridX = ceilDiv(w.out(), tile), gridY = ceilDiv(rows, tile);
        String name;
        MemorySegment function;
        switch (w.precision()) {
            case F32 -> {
                name = wide ? "linear_f32_wide" : "linear_f32";
                function = wide ? linearF32Wide : linearF32;
            }
            case BF16 -> { name = "linear_bf16_tc"; function = linearBf16; }
            case F16 -> { name = "linear_f16_tc"; function = linearF16; }
            default -> throw new IllegalStateException("unknown precision " + w.precision());
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = new KernelArgs(a).pointer(x).pointer(w.weight()).pointer(w.bias()).pointer(y)
                    .i32(rows).i32(w.in()).i32(w.out()).i32(act.ordinal()).array();
            cu.launchKernel(name, function, gridX, gridY, 1, tensorCores ? TC_THREADS : F32_THREADS, 1, 1, 0, stream, args);
        }
    }

    /** x += residual (0 for none), then out = LayerNorm(x) · gamma + beta; out may be x. */
    void addLayerNorm(MemorySegment stream, long x, long residual, long gamma, long beta, int rows, int dim, float eps, long out) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = new KernelArgs(a).pointer(x).pointer(residual).pointer(gamma).pointer(beta)
                    .i32(rows).i32(dim).f32(eps).pointer(out).array();
            cu.launchKernel("add_layernorm", addLayerNorm, rows, 1, 1, LAYERNORM_THREADS, 1, 1, 0, stream, args);
        }
    }

    /**
     * Ragged multi-head attention; keyLengths 0 for "all keys"; each query sees the keys at most {@code window} away
     * (Integer.MAX_VALUE: all); {@code longest} the longest sequence. Heads of up
     * to {@value #ATTENTION_TILED_MAX_HEAD_DIM} dims take attention_tiled (a block per 16 queries of one sequence
     * and head), wider ones attention (a warp per token and head).
     */
    void attention(MemorySegment stream, long qkv, long seqStarts, long keyLengths, int sequences, int tokens,
                   int longest, int heads, int headDim, int window, long out) {
        boolean tiled = headDim <= ATTENTION_TILED_MAX_HEAD_DIM && sequences <= MAX_GRID_Y && heads <= MAX_GRID_Y;
        long warps = (long) tokens * heads;
        int warpsPerBlock = ATTENTION_THREADS / 32;
        long blocks = (warps + warpsPerBlock - 1) / warpsPerBlock;
        if (!tiled && blocks > Integer.MAX_VALUE) throw new IllegalArgumentException("too many tokens × heads for one launch: " + warps);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = new KernelArgs(a).pointer(qkv).pointer(seqStarts).pointer(keyLengths)
                    .i32(sequences).i32(heads).i32(headDim).f32((float) (1.0 / Math.sqrt(headDim))).i32(window).pointer(out).array();
            if (tiled) {
                cu.launchKernel("attention_tiled", attentionTiled, ceilDiv(longest, ATTENTION_TILED_QUERIES), heads,
                        sequences, ATTENTION_THREADS, 1, 1, 0, stream, args);
            } else {
                cu.launchKernel("attention", attention, (int) blocks, 1, 1, ATTENTION_THREADS, 1, 1, 0, stream, args);
            }
        }
    }

    /** Q and K of every token of qkv rotated by its position in its sequence, from [position][headDim / 2] cos and sin tables. */
    void rotary(MemorySegment stream, long qkv, long seqStarts, int sequences, int tokens, int heads, int headDim, long cos, long sin) {
        long threads = (long) tokens * heads * headDim; // Q and K, half the dims each
        if (threads == 0) return;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = new KernelArgs(a).pointer(qkv).pointer(seqStarts).i32(sequences).i32(heads).i32(headDim)
                    .pointer(cos).pointer(sin).array();
            cu.launchKernel("rotary", rotary, blocks(threads), 1, 1, ELEMENTWISE_THREADS, 1, 1, 0, stream, args);
        }
    }

    /** DeBERTa's attention: a warp per token and head; {@code rows} indexed by distance + center. */
    void disentangledAttention(MemorySegment stream, long qkv, long seqStarts, int sequences, int tokens, long positions, long rows,
                               int center, boolean c2p, boolean p2c, int heads, int headDim, float scale, long out) {
        long warps = (long) tokens * heads, blocks = (warps + ATTENTION_THREADS / 32 - 1) / (ATTENTION_THREADS / 32);
        if (blocks > Integer.MAX_VALUE) throw new IllegalArgumentException("too many tokens × heads for one launch: " + warps);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = new KernelArgs(a).pointer(qkv).pointer(seqStarts).i32(sequences).pointer(positions).pointer(rows)
                    .i32(center).i32(c2p ? 1 : 0).i32(p2c ? 1 : 0).i32(heads).i32(headDim).f32(scale).pointer(out).array();
            cu.launchKernel("disentangled_attention", disentangledAttention, (int) blocks, 1, 1, ATTENTION_THREADS, 1, 1, 0, stream, args);
        }
    }

    /** gated[r][j] = GELU(hidden[r][j]) · hidden[r][width + j]. */
    void geluGate(MemorySegment stream, long hidden, long gated, int rows, int width) {
        long threads = (long) rows * width;
        if (threads == 0) return;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = new KernelArgs(a).pointer(hidden).pointer(gated).i32(rows).i32(width).array();
            cu.launchKernel("gelu_gate", geluGate, blocks(threads), 1, 1, ELEMENTWISE_THREADS, 1, 1, 0, stream, args);
        }
    }

    private static int blocks(long threads) {
        long blocks = (threads + ELEMENTWISE_THREADS - 1) / ELEMENTWISE_THREADS;
        if (blocks > Integer.MAX_VALUE) throw new IllegalArgumentException("too many elements for one launch: " + threads);
        return (int) blocks;
    }

    /** ColBERT MaxSim of one query against {@code documents} documents; one block per document. */
    void maxSim(MemorySegment stream, long query, int queryTokens, long docs, long docOffsets, int documents, int dim,
                long scores) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = new KernelArgs(a).pointer(query).i32(queryTokens).pointer(docs).pointer(docOffsets)
                    .i32(documents).i32(dim).pointer(scores).array();
            cu.launchKernel("max_sim", maxSim, documents, 1, 1, MAXSIM_THREADS, 1, 1, 0, stream, args);
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
