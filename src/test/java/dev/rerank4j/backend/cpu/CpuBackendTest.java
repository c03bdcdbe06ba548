package dev.rerank4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class CpuBackendTest {
    @Test
    void rejectsWeightsThatAreNotRankTwoNamingTheTensor() {
        try (CpuBackend be = new CpuBackend(1)) {
            Tensor w = TestTensors.of("layer.0.dense.weight", DType.F32, new float[8], 2, 2, 2);
            var e = assertThrows(ModelFormatException.class, () -> be.prepareLinear(w, null));
            assertTrue(e.getMessage().contains("layer.0.dense.weight"), e.getMessage());
        }
    }

    @Test
    void rejectsABiasWhoseLengthIsNotOutNamingTheTensor() {
        try (CpuBackend be = new CpuBackend(1)) {
            Tensor w = TestTensors.of("w", DType.F32, new float[6], 3, 2);
            Tensor b = TestTensors.of("layer.0.dense.bias", DType.F32, new float[2], 2);
            var e = assertThrows(ModelFormatException.class, () -> be.prepareLinear(w, b));
            assertTrue(e.getMessage().contains("layer.0.dense.bias"), e.getMessage());
        }
    }

    @Test
    void rejectsActivationArraysThatAreTooShort() {
        try (CpuBackend be = new CpuBackend(1)) {
            LinearWeights w = be.prepareLinear(TestTensors.of("w", DType.F32, new float[6], 3, 2), null);
            assertThrows(IllegalArgumentException.class, () -> be.linear(new float[3], 2, w, new float[6], Activation.NONE));
            assertThrows(IllegalArgumentException.class, () -> be.linear(new float[4], 2, w, new float[5], Activation.NONE));
        }
    }

    @Test
    void closingFreesThePackedWeightsAtOnce() {
        CpuBackend be = new CpuBackend(1);
        PackedLinear w = (PackedLinear) be.prepareLinear(TestTensors.of("w", DType.F32, new float[64 * 64], 64, 64), null);
        assertTrue(be.packedWeights().equals("16.4 KB"), be.packedWeights());
        be.close();
        assertTrue(!w.packed().scope().isAlive(), "the packed weights outlived close()");
        assertThrows(IllegalStateException.class, () -> w.packed().get(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0));
        assertTrue(be.packedWeights().equals("0.0 KB"), be.packedWeights());
        be.close(); // again: nothing left to free, no error
    }

    /**
     * A backend closed while another thread's product runs on it: the product ends, or fails with an
     * IllegalStateException at its next load of a freed weight; it never reads freed memory (a crash here takes the
     * test JVM down).
     */
    @Test
    void closingUnderARunningKernelFailsThatKernelCleanly() throws Exception {
        Random rnd = new Random(5);
        int in = 768, out = 2304, rows = 256;
        CpuBackend be = new CpuBackend(2);
        LinearWeights w = be.prepareLinear(TestTensors.of("w", DType.F32, TestTensors.random(rnd, out * in, 0.1f), out, in), null);
        float[] x = TestTensors.random(rnd, rows * in, 1f), y = new float[rows * out];
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(1);
            Future<?> products = caller.submit(() -> {
                running.countDown();
                for (int i = 0; i < 1_000_000; i++) be.linear(x, rows, w, y, Activation.NONE);
                return null;
            });
            running.await();
            Thread.sleep(50);
            be.close();
            var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> products.get(60, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IllegalStateException, "expected IllegalStateException, got " + e.getCause());
        } finally {
            caller.shutdownNow();
        }
    }

    /** Weights freed with their own backend must not reach another backend's kernels. */
    @Test
    void refusesWeightsPreparedByAnotherBackend() {
        try (CpuBackend mine = new CpuBackend(1); CpuBackend other = new CpuBackend(1)) {
            LinearWeights theirs = other.prepareLinear(TestTensors.of("w", DType.F32, new float[6], 3, 2), null);
            var e = assertThrows(IllegalArgumentException.class, () -> mine.linear(new float[4], 2, theirs, new float[6], Activation.NONE));
            assertTrue(e.getMessage().contains("not prepared by this backend"), e.getMessage());
        }
    }

    /** The many-rows GEMM reads x a k-block at a time, so an in-place product was wrong for some row counts only. */
    @Test
    void refusesToRunInPlace() {
        try (CpuBackend be = new CpuBackend(1)) {
            LinearWeights square = be.prepareLinear(TestTensors.of("w", DType.F32, new float[4], 2, 2), null);
            float[] x = new float[4];
            var e = assertThrows(IllegalArgumentException.class, () -> be.linear(x, 2, square, x, Activation.NONE));
            assertTrue(e.getMessage().contains("does not run in place"), e.getMessage());
            float[] qkv = new float[2 * 3 * 4];
            assertThrows(IllegalArgumentException.class, () -> be.attention(qkv, new int[] {0, 2}, null, 1, 4, qkv));
        }
    }

    @Test
    void rejectsDecreasingSequenceStarts() {
        try (CpuBackend be = new CpuBackend(1)) {
            assertThrows(IllegalArgumentException.class,
                    () -> be.attention(new float[5 * 6], new int[] {0, 3, 2, 5}, 1, 2, new float[10]));
        }
    }

    @Test
    void refusesCallsAfterClose() {
        CpuBackend be = new CpuBackend(2);
        LinearWeights w = be.prepareLinear(TestTensors.of("w", DType.F32, new float[6], 3, 2), null);
        be.close();
        assertThrows(IllegalStateException.class, () -> be.linear(new float[2], 1, w, new float[3], Activation.NONE));
    }

    private static final float SAME_RESULT = 1e-5f;

    @Test
    void concurrentCallsGiveTheSameResults() throws Exception {
        Random rnd = new Random(11);
        int rows = 100, in = 384, out = 1152, heads = 12, hd = 32;
        try (CpuBackend be = new CpuBackend(2)) {
            LinearWeights w = be.prepareLinear(TestTensors.of("qkv", DType.BF16, TestTensors.random(rnd, out * in, 0.1f), out, in),
                    TestTensors.of("qkv.bias", DType.F32, TestTensors.random(rnd, out, 0.1f), out));
            float[] x = TestTensors.random(rnd, rows * in, 1f);
            float[] gamma = TestTensors.random(rnd, in, 1f), beta = TestTensors.random(rnd, in, 1f);
            int[] starts = {0, 7, 40, 100};
            java.util.concurrent.Callable<float[]> job = () -> {
                float[] qkv = new float[rows * out];
                be.linear(x, rows, w, qkv, Activation.GELU);
                float[] att = new float[rows * heads * hd];
                be.attention(qkv, starts, heads, hd, att);
                be.addLayerNorm(att, x, rows, in, gamma, beta, 1e-12f);
                return att;
            };
            // Interpreted, C1- and C2-compiled Vector API code (exp, lane sums) round differently, and a
            // method may be recompiled at any time on a loaded machine: outputs (LayerNorm, O(1)) may move
            // in the last bits. A scratch race would corrupt whole rows, far beyond SAME_RESULT.
            for (int i = 0; i < 40; i++) job.call();
            float[] expected = job.call();
            ExecutorService ex = Executors.newFixedThreadPool(6);
            try {
                List<Future<float[]>> fs = new ArrayList<>();
                for (int i = 0; i < 24; i++) fs.add(ex.submit(job));
                for (Future<float[]> f : fs) assertArrayEquals(expected, f.get(), SAME_RESULT);
            } finally {
                ex.shutdown();
            }
        }
    }
}
