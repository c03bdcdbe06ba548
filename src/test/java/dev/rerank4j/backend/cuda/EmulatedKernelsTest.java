package dev.rerank4j.backend.cuda;

import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.DType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

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
        }
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
    }

    @Test
    void maxSimMatchesTheCpu() {
        new KernelParity(cpu, cuda, arena, 14).maxSim(9, new int[] {0, 1, 1, 35, 80}, 16);
    }
}
