package dev.rerank4j.backend.cuda;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.DType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real kernel source run on the CPU: CudaBackend against a fake libcuda whose cuLaunchKernel executes
 * src/main/cuda/kernels.cu compiled for the host (src/test/c/emulation: a thread per CUDA thread, barriers
 * for __syncthreads and warp shuffles, WMMA tiles in full, 32-byte alignment checked). Everything CudaBackend
 * does on the host, the uploads, staging offsets, kernel arguments and launch geometry, meets the kernels'
 * indexing, tails and reductions here, compared with the CPU backend. What it cannot show: the GPU's own
 * behaviour (PTX JIT, real warp scheduling, memory model, speed); tools/gpu-check covers that on a device.
 * Small sizes only: the emulation is slow.
 */
class EmulatedKernelsTest {
    private CudaBackend cuda;
    private CpuBackend cpu;
    private Arena arena;

    @BeforeEach
    void open() {
        CudaProbe.Result probe = CudaProbe.probe(FakeCuda.emulatedGpu());
        assertTrue(probe.usable(), probe::description);
        cuda = probe.open();
        cpu = new CpuBackend(1);
        arena = Arena.ofConfined();
    }

    @AfterEach
    void close() {
        if (cuda != null) cuda.close();
        if (cpu != null) cpu.close();
        if (arena != null) arena.close();
    }

    @Test
    void linearKernelsMatchTheCpuOnTailsOfEveryTile() {
        KernelParity p = new KernelParity(cpu, cuda, arena, 11);
        for (DType dtype : DType.values()) {
            p.linear(dtype, 1, 1, 1);
            p.linear(dtype, 3, 17, 5);
            p.linear(dtype, 65, 33, 70); // two row tiles and a column tail for both tile sizes (64 and 32)
            p.linear(dtype, 65, 36, 68); // rows a multiple of 4 floats: float4 loads and stores in linear_f32
        }
        // linear_f32_wide (Kernels.F32_WIDE_MIN_BLOCKS 128 × 128 tiles or more): float4 loads with aligned
        // stores, then checked loads and stores; tails in rows, columns and k.
        p.linear(DType.F32, 1290, 12, 1540);
        p.linear(DType.F32, 1290, 9, 1538);
    }

    @Test
    void addLayerNormMatchesTheCpu() {
        KernelParity p = new KernelParity(cpu, cuda, arena, 12);
        p.addLayerNorm(1, 1);
        p.addLayerNorm(3, 300); // more columns than threads
    }

    @Test
    void attentionMatchesTheCpuOnRaggedSequences() {
        KernelParity p = new KernelParity(cpu, cuda, arena, 13);
        p.attention(new int[] {0, 1, 1, 9, 23}, null, 2, 8);          // an empty and a 1-token sequence
        p.attention(new int[] {0, 5, 12}, new int[] {2, 7}, 1, 40);   // key lengths; a head wider than a warp
        p.attention(new int[] {3, 10}, null, 2, 4);                    // rows before the first sequence are left alone
        p.attention(new int[] {0, 40, 75}, null, 2, 8);                // several query blocks and key tiles per sequence
        p.attention(new int[] {0, 50, 53}, new int[] {37, 3}, 1, 33); // key lengths past one tile of 32 keys
        p.attention(new int[] {0, 3, 5}, null, 1, 130);                // a head over 128 dims: the warp-per-token kernel
    }

    /**
     * ModernBERT's kernels: windows inside one 32-key tile, across tiles, and wider than the sequences; 16-query blocks
     * whose first tiles hold no key of some queries' windows; key lengths with a window; heads of 64 dims (the tiled
     * kernel) and of 130 (the warp-per-token one).
     */
    @Test
    void rotaryEncoderKernelsMatchTheCpu() {
        KernelParity p = new KernelParity(cpu, cuda, arena, 16);
        p.rotarySelfAttention(new int[] {0, 1, 1, 9, 80}, null, 2, 8, 4);
        p.rotarySelfAttention(new int[] {0, 100}, null, 1, 64, 8);
        p.rotarySelfAttention(new int[] {0, 70, 75}, new int[] {30, 5}, 2, 16, 40);
        p.rotarySelfAttention(new int[] {0, 33}, null, 1, 130, 5);
        p.rotarySelfAttention(new int[] {0, 20}, null, 1, 8, Integer.MAX_VALUE);
        p.gatedFeedForward(5, 16, 24);
        p.gatedFeedForward(3, 8, 37);
        p.addAndNormalize(3, 300);
        p.addAndNormalize(1, 1);
    }

    /** DeBERTa's attention: an empty sequence, rows past the first, heads narrower and wider than a warp. */
    @Test
    void disentangledAttentionMatchesTheCpu() {
        KernelParity p = new KernelParity(cpu, cuda, arena, 17);
        p.disentangledAttention(new int[] {0, 1, 1, 30, 70}, 2, 8, 4);
        p.disentangledAttention(new int[] {2, 40}, 1, 40, 16);
    }

    @Test
    void maxSimMatchesTheCpu() {
        new KernelParity(cpu, cuda, arena, 14).maxSim(9, new int[] {0, 1, 1, 35, 80}, 16);
    }

    /**
     * An array kept on the device: a result stays there (the array is untouched) until toHost, the next kernel
     * reads it there, and what the host writes after toHost is what the next kernel reads.
     */
    @Test
    void anArrayKeptOnTheDeviceIsCurrentOnlyAfterToHost() {
        KernelParity p = new KernelParity(cpu, cuda, arena, 15);
        int rows = 3, in = 5, out = 7;
        float[] x = p.random(rows * in, 1f), weight = p.random(out * in, 0.5f);
        float[] gamma = p.random(out, 1f), beta = p.random(out, 0.2f);
        LinearWeights onCpu = cpu.prepareLinear(p.tensor("w", DType.F32, weight, out, in), null);
        LinearWeights onGpu = cuda.prepareLinear(p.tensor("w", DType.F32, weight, out, in), null);
        float[] expected = new float[rows * out];
        cpu.linear(x, rows, onCpu, expected, Activation.NONE);
        cpu.addLayerNorm(expected, null, rows, out, gamma, beta, 1e-5f);

        float[] y = new float[rows * out];
        int before = cuda.residentArrays();
        cuda.keepOnDevice(y);
        cuda.keepOnDevice(y);
        assertEquals(before + 1, cuda.residentArrays(), "one twin per array");
        cuda.linear(x, rows, onGpu, y, Activation.NONE);
        assertArrayEquals(new float[rows * out], y, "the product stays on the device");
        cuda.addLayerNorm(y, null, rows, out, gamma, beta, 1e-5f);
        assertArrayEquals(new float[rows * out], y, "so does the layer norm of it");
        cuda.toHost(y);
        KernelParity.assertClose(expected, y, KernelParity.F32_TOLERANCE, "linear + layer norm kept on the device");

        float[] ones = new float[rows * out];
        Arrays.fill(ones, 1f);
        Arrays.fill(y, 1f);
        cpu.addLayerNorm(ones, null, rows, out, gamma, beta, 1e-5f);
        cuda.addLayerNorm(y, null, rows, out, gamma, beta, 1e-5f);
        cuda.toHost(y);
        KernelParity.assertClose(ones, y, KernelParity.F32_TOLERANCE, "the host's writes after toHost");
    }
}
