package dev.rerank4j.backend.cuda;

import dev.rerank4j.Golden;
import dev.rerank4j.Options;
import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every CUDA kernel against the CPU backend (itself checked against scalar twins) on odd sizes: tails that
 * fill no tile, a 1-row batch, empty sequences, a sequence of 8,192 tokens, a document without rows. Needs
 * a usable GPU: skipped, with the probe's reason, everywhere else (tools/gpu-check runs it).
 */
class CudaBackendParityTest {
    private static CudaBackend cuda;
    private static CpuBackend cpu;
    private static Arena arena;

    private static CudaProbe.Result probe;

    @BeforeAll
    static void open() {
        probe = CudaProbe.probe();
        if (!probe.usable()) return;
        cuda = probe.open();
        cpu = new CpuBackend(2);
        arena = Arena.ofShared();
    }

    /**
     * Per test rather than in open(), so that each shows as skipped with the reason instead of vanishing; a
     * failure instead where CUDA was asked for (tools/gpu-check), so a GPU run cannot pass by skipping.
     */
    @BeforeEach
    void needsAGpu() {
        if (cuda == null && Golden.backend() == Options.BackendChoice.CUDA) {
            fail(Golden.BACKEND_PROPERTY + "=CUDA but there is no usable CUDA device: " + probe.description());
        }
        assumeTrue(cuda != null, () -> "no usable CUDA device: " + probe.description());
    }

    @AfterAll
    static void close() {
        if (cuda != null) cuda.close();
        if (cpu != null) cpu.close();
        if (arena != null) arena.close();
    }

    private static KernelParity parity(long seed) {
        return new KernelParity(cpu, cuda, arena, seed);
    }

    @Test
    void linearMatchesTheCpuForEveryPrecisionActivationAndOddSize() {
        KernelParity p = parity(1);
        // the last two take linear_f32_wide (Kernels.F32_WIDE_MIN_BLOCKS), with float4 loads and without
        int[][] shapes = {{1, 1, 1}, {1, 384, 1}, {17, 15, 33}, {65, 383, 130}, {130, 768, 2304}, {383, 3072, 768},
                {2049, 768, 2304}, {2050, 383, 1030}};
        for (DType dtype : DType.values()) {
            for (int[] s : shapes) p.linear(dtype, s[0], s[1], s[2]);
        }
    }

    @Test
    void addLayerNormMatchesTheCpuWithAndWithoutResidual() {
        KernelParity p = parity(2);
        for (int[] s : new int[][] {{1, 1}, {3, 17}, {65, 384}, {130, 1023}}) p.addLayerNorm(s[0], s[1]);
    }

    @Test
    void attentionMatchesTheCpuOnRaggedSequencesMasksAndEightThousandTokens() {
        KernelParity p = parity(3);
        p.attention(new int[] {0, 1, 1, 18, 83}, null, 3, 8);              // an empty sequence, a 1-token one
        p.attention(new int[] {0, 5, 40, 41}, new int[] {2, 32, 1}, 2, 64); // keyLengths (ColBERT's [MASK] padding)
        p.attention(new int[] {4, 20, 37}, null, 1, 256);                   // rows before seqStarts[0], the widest head
        p.attention(new int[] {0, 33}, null, 12, 33);                       // a head size that fills no warp
        p.attention(new int[] {0, 8192}, null, 1, 64);                      // the longest input (bge-m3's 8,192)
    }

    @Test
    void maxSimMatchesTheCpuIncludingADocumentWithoutRows() {
        parity(4).maxSim(33, new int[] {0, 1, 1, 40, 219, 519}, 128);
    }

    @Test
    void manyThreadsCanShareOneBackend() throws Exception {
        KernelParity p = parity(5);
        int rows = 40, in = 96, out = 80;
        float[] w = p.random(out * in, 0.1f), x = p.random(rows * in, 1f);
        var cw = cuda.prepareLinear(p.tensor("w", DType.F32, w, out, in), null);
        float[] reference = new float[rows * out];
        cuda.linear(x, rows, cw, reference, Activation.GELU);
        Thread[] threads = new Thread[4];
        Throwable[] failure = new Throwable[1];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < 50; i++) {
                        float[] y = new float[rows * out];
                        cuda.linear(x, rows, cw, y, Activation.GELU);
                        org.junit.jupiter.api.Assertions.assertArrayEquals(reference, y);
                    }
                } catch (Throwable e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
            });
        }
        for (Thread t : threads) t.join();
        if (failure[0] != null) throw new AssertionError(failure[0]);
    }
}
