package dev.rerank4j.backend.cuda;

import dev.rerank4j.Golden;
import dev.rerank4j.Options;
import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every CUDA kernel against the CPU backend (itself checked against scalar twins) on odd sizes: tails that
 * fill no tile, a 1-row batch, empty sequences, a sequence of 8,192 tokens, a document without rows. Needs
 * a usable GPU: skipped, with the probe's reason, everywhere else (tools/gpu-check runs it).
 */
class CudaBackendParityTest {
    /**
     * F32 kernels: the same products summed in another order, and the GPU's erff/expf/tanhf (≤ 2 ulp);
     * relative to the largest |value| of the output.
     */
    private static final double F32_TOLERANCE = 1e-5;
    /** Tensor-core linear: inputs split into hi + lo halves keep ~16 bits, so 2⁻¹⁶ relative, with margin. */
    private static final double TENSOR_CORE_TOLERANCE = 1e-4;

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

    private static float[] random(Random rnd, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * scale);
        return a;
    }

    private static Tensor tensor(String name, DType dtype, float[] values, long... shape) {
        MemorySegment data = arena.allocate((long) values.length * dtype.byteSize());
        for (int i = 0; i < values.length; i++) {
            switch (dtype) {
                case F32 -> data.setAtIndex(ValueLayout.JAVA_FLOAT, i, values[i]);
                case F16 -> data.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(values[i]));
                case BF16 -> data.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (Float.floatToRawIntBits(values[i]) >>> 16));
            }
        }
        return new Tensor(name, dtype, shape, data);
    }

    private static void assertClose(float[] expected, float[] actual, int n, double relative, String what) {
        double scale = 1e-30;
        for (int i = 0; i < n; i++) scale = Math.max(scale, Math.abs(expected[i]));
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double d = Math.abs(expected[i] - actual[i]);
            int at = i;
            assertEquals(expected[i], actual[i], relative * scale, () -> what + " element " + at);
            worst = Math.max(worst, d);
        }
        System.out.printf("%s: max |Δ| %.2e of max |value| %.2e%n", what, worst, scale);
    }

    @Test
    void linearMatchesTheCpuForEveryPrecisionActivationAndOddSize() {
        Random rnd = new Random(1);
        int[][] shapes = {{1, 1, 1}, {1, 384, 1}, {17, 15, 33}, {65, 383, 130}, {130, 768, 2304}, {383, 3072, 768}};
        for (DType dtype : DType.values()) {
            for (int[] s : shapes) {
                int rows = s[0], in = s[1], out = s[2];
                float[] w = random(rnd, out * in, 0.05f), b = random(rnd, out, 0.5f), x = random(rnd, rows * in, 1f);
                var cw = cuda.prepareLinear(tensor("w", dtype, w, out, in), tensor("b", DType.F32, b, out));
                var pw = cpu.prepareLinear(tensor("w", dtype, w, out, in), tensor("b", DType.F32, b, out));
                for (Activation act : Activation.values()) {
                    float[] expected = new float[rows * out], actual = new float[rows * out];
                    cpu.linear(x, rows, pw, expected, act);
                    cuda.linear(x, rows, cw, actual, act);
                    assertClose(expected, actual, rows * out, dtype == DType.F32 ? F32_TOLERANCE : TENSOR_CORE_TOLERANCE,
                            "linear " + dtype + " " + rows + "×" + in + "→" + out + " " + act);
                }
            }
        }
    }

    @Test
    void addLayerNormMatchesTheCpuWithAndWithoutResidual() {
        Random rnd = new Random(2);
        for (int[] s : new int[][] {{1, 1}, {3, 17}, {65, 384}, {130, 1023}}) {
            int rows = s[0], dim = s[1];
            float[] x = random(rnd, rows * dim, 3f), res = random(rnd, rows * dim, 1f);
            float[] gamma = random(rnd, dim, 1f), beta = random(rnd, dim, 0.2f);
            for (float[] residual : new float[][] {null, res}) {
                float[] expected = x.clone(), actual = x.clone();
                cpu.addLayerNorm(expected, residual, rows, dim, gamma, beta, 1e-12f);
                cuda.addLayerNorm(actual, residual, rows, dim, gamma, beta, 1e-12f);
                assertClose(expected, actual, rows * dim, F32_TOLERANCE, "layernorm " + rows + "×" + dim
                        + (residual == null ? "" : " + residual"));
            }
        }
    }

    @Test
    void attentionMatchesTheCpuOnRaggedSequencesMasksAndEightThousandTokens() {
        Random rnd = new Random(3);
        check(rnd, new int[] {0, 1, 1, 18, 83}, null, 3, 8);              // an empty sequence, a 1-token one
        check(rnd, new int[] {0, 5, 40, 41}, new int[] {2, 32, 1}, 2, 64); // keyLengths (ColBERT's [MASK] padding)
        check(rnd, new int[] {4, 20, 37}, null, 1, 256);                   // rows before seqStarts[0], the widest head
        check(rnd, new int[] {0, 33}, null, 12, 33);                       // a head size that fills no warp
        check(rnd, new int[] {0, 8192}, null, 1, 64);                      // the longest input (bge-m3's 8,192)
    }

    private static void check(Random rnd, int[] seqStarts, int[] keyLengths, int heads, int headDim) {
        int tokens = seqStarts[seqStarts.length - 1];
        float[] qkv = random(rnd, tokens * 3 * heads * headDim, 1f);
        float[] expected = random(rnd, tokens * heads * headDim, 1f), actual = expected.clone();
        cpu.attention(qkv, seqStarts, keyLengths, heads, headDim, expected);
        cuda.attention(qkv, seqStarts, keyLengths, heads, headDim, actual);
        assertClose(expected, actual, expected.length, F32_TOLERANCE, "attention " + java.util.Arrays.toString(seqStarts)
                + " heads " + heads + " headDim " + headDim);
    }

    @Test
    void maxSimMatchesTheCpuIncludingADocumentWithoutRows() {
        Random rnd = new Random(4);
        int dim = 128, queryTokens = 33;
        int[] offsets = {0, 1, 1, 40, 219, 219 + 300};
        float[] query = random(rnd, queryTokens * dim, 0.1f), docs = random(rnd, offsets[offsets.length - 1] * dim, 0.1f);
        float[] expected = new float[offsets.length - 1], actual = new float[offsets.length - 1];
        cpu.maxSim(query, queryTokens, docs, offsets, dim, expected);
        cuda.maxSim(query, queryTokens, docs, offsets, dim, actual);
        assertEquals(0f, actual[1], "a document without rows scores 0");
        assertClose(expected, actual, expected.length, F32_TOLERANCE, "maxSim");
    }

    @Test
    void manyThreadsCanShareOneBackend() throws Exception {
        Random rnd = new Random(5);
        int rows = 40, in = 96, out = 80;
        float[] w = random(rnd, out * in, 0.1f), x = random(rnd, rows * in, 1f);
        var cw = cuda.prepareLinear(tensor("w", DType.F32, w, out, in), null);
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
