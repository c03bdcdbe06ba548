package dev.rerank4j.backend.cuda;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CudaBackend's host side against the fake libcuda: which kernel each call launches with what geometry,
 * what prepareLinear uploads, that every context push is popped, and that close() frees everything. The
 * fake runs no kernel, so results are not checked here: CudaBackendParityTest does that on a real GPU.
 */
@SuppressWarnings("restricted") // native access is this class's job; the JVM runs with --enable-native-access
class CudaBackendFakeDeviceTest {
    /**
     * A fake of its own: the counters below must not see other test classes' allocations. Built per test (once,
     * then cached), not in a static initializer, so a missing C compiler skips each test instead of failing the class.
     */
    private final String lib = FakeCuda.library("FAKE_TAG=backend_test");

    private CudaBackend open() {
        CudaProbe.Result probe = CudaProbe.probe(lib);
        assertTrue(probe.usable(), probe::description);
        return probe.open();
    }

    private static Tensor tensor(Arena arena, DType dtype, int out, int in) {
        MemorySegment data = arena.allocate((long) out * in * dtype.byteSize());
        for (long i = 0; i < data.byteSize(); i++) data.set(JAVA_BYTE, i, (byte) (i * 7 + 3));
        return new Tensor("w" + dtype, dtype, new long[]{out, in}, data);
    }

    @Test
    void eachWeightPrecisionLaunchesItsKernelWithTilesCoveringTheOutput() {
        try (CudaBackend cuda = open(); Arena arena = Arena.ofConfined()) {
            int rows = 65, in = 17, out = 130;
            float[] x = new float[rows * in], y = new float[rows * out];
            cuda.linear(x, rows, cuda.prepareLinear(tensor(arena, DType.F32, out, in), null), y, Activation.GELU);
            assertEquals("linear_f32 grid=3,2,1 block=256,1,1 shared=0", FakeCuda.lastLaunch(lib)); // 64 × 64 tiles
            int batch = 4480; // 32 pairs of 140 tokens through bge-base's attention output: 35 × 6 tiles of 128 × 128
            float[] xs = new float[batch * 768], ys = new float[batch * 768];
            cuda.linear(xs, batch, cuda.prepareLinear(tensor(arena, DType.F32, 768, 768), null), ys, Activation.NONE);
            assertEquals("linear_f32_wide grid=6,35,1 block=256,1,1 shared=0", FakeCuda.lastLaunch(lib));
            cuda.linear(x, rows, cuda.prepareLinear(tensor(arena, DType.BF16, out, in), null), y, Activation.NONE);
            assertEquals("linear_bf16_tc grid=5,3,1 block=128,1,1 shared=0", FakeCuda.lastLaunch(lib)); // 32 × 32 tiles
            cuda.linear(x, rows, cuda.prepareLinear(tensor(arena, DType.F16, out, in), null), y, Activation.TANH);
            assertEquals("linear_f16_tc grid=5,3,1 block=128,1,1 shared=0", FakeCuda.lastLaunch(lib));
            Tensor onHeap = new Tensor("heap", DType.F32, new long[]{out, in}, MemorySegment.ofArray(new float[out * in]));
            cuda.linear(x, rows, cuda.prepareLinear(onHeap, null), y, Activation.NONE); // as the CPU backend takes it
            assertEquals("linear_f32 grid=3,2,1 block=256,1,1 shared=0", FakeCuda.lastLaunch(lib));
        }
    }

    @Test
    void theOtherKernelsLaunchOneBlockPerRowDocumentOrQueryTileOrFourTokenHeads() {
        try (CudaBackend cuda = open()) {
            int rows = 5, dim = 24;
            cuda.addLayerNorm(new float[rows * dim], new float[rows * dim], rows, dim, new float[dim], new float[dim], 1e-12f);
            assertEquals("add_layernorm grid=5,1,1 block=256,1,1 shared=0", FakeCuda.lastLaunch(lib));

            int heads = 3, headDim = 8, tokens = 7;
            cuda.attention(new float[tokens * 3 * heads * headDim], new int[]{0, 4, 4, 7}, new int[]{2, 1, 3}, heads, headDim,
                    new float[tokens * heads * headDim]);
            // heads of ≤ 128 dims: a block per 16 queries of the longest sequence (4 tokens), head and sequence
            assertEquals("attention_tiled grid=1,3,3 block=128,1,1 shared=0", FakeCuda.lastLaunch(lib));
            int wide = 130;
            cuda.attention(new float[tokens * 3 * heads * wide], new int[]{0, 4, 4, 7}, new int[]{2, 1, 3}, heads, wide,
                    new float[tokens * heads * wide]);
            assertEquals("attention grid=6,1,1 block=128,1,1 shared=0", FakeCuda.lastLaunch(lib)); // a warp per token and head: ceil(21 / 4)

            cuda.maxSim(new float[2 * dim], 2, new float[3 * dim], new int[]{0, 1, 1, 3}, dim, new float[3]);
            assertEquals("max_sim grid=3,1,1 block=256,1,1 shared=0", FakeCuda.lastLaunch(lib));
        }
    }

    @Test
    void callsWithNothingToComputeLaunchNothing() {
        try (CudaBackend cuda = open(); Arena arena = Arena.ofConfined()) {
            int before = FakeCuda.counter(lib, "fake_launches");
            LinearWeights w = cuda.prepareLinear(tensor(arena, DType.F32, 3, 2), null);
            cuda.linear(new float[0], 0, w, new float[0], Activation.NONE);
            cuda.addLayerNorm(new float[0], null, 0, 4, new float[4], new float[4], 1e-5f);
            cuda.attention(new float[0], new int[]{0, 0}, 1, 4, new float[0]);
            cuda.maxSim(new float[4], 1, new float[0], new int[]{0}, 4, new float[0]);
            assertEquals(before, FakeCuda.counter(lib, "fake_launches"));
        }
    }

    @Test
    void weightsAreUploadedInTheirOwnPrecisionAndTheBiasAsF32() {
        try (CudaBackend cuda = open(); Arena arena = Arena.ofConfined()) {
            Tensor w = tensor(arena, DType.BF16, 6, 5);
            MemorySegment biasData = arena.allocateFrom(JAVA_FLOAT, 0.5f, -1f, 2f, 3f, 4f, 5f);
            Tensor bias = new Tensor("b", DType.F32, new long[]{6}, biasData);
            DeviceLinear d = (DeviceLinear) cuda.prepareLinear(w, bias);
            assertEquals(DeviceLinear.Precision.BF16, d.precision());
            // The fake's device pointers are host addresses, so what was uploaded can be read back directly.
            assertArrayEquals(w.data().toArray(JAVA_BYTE), MemorySegment.ofAddress(d.weight()).reinterpret(60).toArray(JAVA_BYTE));
            assertArrayEquals(new float[]{0.5f, -1f, 2f, 3f, 4f, 5f},
                    MemorySegment.ofAddress(d.bias()).reinterpret(24).toArray(JAVA_FLOAT));
            assertEquals(0, ((DeviceLinear) cuda.prepareLinear(w, null)).bias(), "no bias is a null pointer");
        }
    }

    @Test
    void closeFreesEveryBufferAndReleasesTheContextAndEveryCallPopsWhatItPushed() {
        try (Arena arena = Arena.ofConfined()) {
            CudaBackend cuda = open();
            LinearWeights w = cuda.prepareLinear(tensor(arena, DType.F32, 4, 3), new Tensor("b", DType.F32, new long[]{4}, arena.allocate(16)));
            cuda.linear(new float[6], 2, w, new float[8], Activation.NONE);
            cuda.maxSim(new float[8], 2, new float[16], new int[]{0, 4}, 4, new float[1]);
            assertEquals(0, FakeCuda.counter(lib, "fake_context_depth"), "a call left its context pushed");
            assertEquals(1, FakeCuda.counter(lib, "fake_context_refs"));
            assertTrue(FakeCuda.counter(lib, "fake_live_device_allocations") > 0);
            cuda.close();
            cuda.close(); // idempotent
            assertEquals(0, FakeCuda.counter(lib, "fake_live_device_allocations"));
            assertEquals(0, FakeCuda.counter(lib, "fake_live_host_allocations"));
            assertEquals(0, FakeCuda.counter(lib, "fake_loaded_modules"));
            assertEquals(0, FakeCuda.counter(lib, "fake_live_streams"));
            assertEquals(0, FakeCuda.counter(lib, "fake_context_refs"));
            assertEquals(0, FakeCuda.counter(lib, "fake_context_depth"));
            assertThrows(IllegalStateException.class, () -> cuda.linear(new float[6], 2, w, new float[8], Activation.NONE));
        }
    }

    /** A driver that reports success with a NULL host buffer: an exception, not a copy into address 0 that kills the JVM. */
    @Test
    void aNullBufferFromTheDriverIsAnExceptionNotACrash() {
        CudaProbe.Result probe = CudaProbe.probe(FakeCuda.library("FAKE_NULL_HOST"));
        try (CudaBackend cuda = probe.open(); Arena arena = Arena.ofConfined()) {
            int rows = 3, in = 17, out = 130;
            CudaException e = assertThrows(CudaException.class, () -> cuda.linear(new float[rows * in], rows,
                    cuda.prepareLinear(tensor(arena, DType.F32, out, in), null), new float[rows * out], Activation.NONE));
            assertTrue(e.getMessage().contains("null pointer"), e.getMessage());
        }
    }

    /** A crashed kernel's error is what the caller sees, with a failure to pop the context attached, not in its place. */
    @Test
    void aFailureToPopTheContextDoesNotHideTheRealErrorNorLeakAHalfOpenedBackend() {
        String fake = FakeCuda.library("FAKE_TAG=pop_test");
        try (CudaBackend cuda = CudaProbe.probe(fake).open(); Arena arena = Arena.ofConfined()) {
            int rows = 3, in = 17, out = 130;
            LinearWeights w = cuda.prepareLinear(tensor(arena, DType.F32, out, in), null);
            FakeCuda.counter(fake, "fake_fail_next_sync");
            FakeCuda.counter(fake, "fake_fail_next_pop");
            CudaException e = assertThrows(CudaException.class,
                    () -> cuda.linear(new float[rows * in], rows, w, new float[rows * out], Activation.NONE));
            assertTrue(e.getMessage().startsWith("cuStreamSynchronize failed"), e.getMessage());
            assertEquals(1, e.getSuppressed().length);
            assertTrue(e.getSuppressed()[0].getMessage().startsWith("cuCtxPopCurrent_v2 failed"), e.getSuppressed()[0].getMessage());
        }
        FakeCuda.counter(fake, "fake_fail_next_pop");
        CudaException e = assertThrows(CudaException.class, () -> CudaProbe.probe(fake).open());
        assertTrue(e.getMessage().startsWith("cuCtxPopCurrent_v2 failed"), e.getMessage());
        assertEquals(0, FakeCuda.counter(fake, "fake_context_refs"));
        assertEquals(0, FakeCuda.counter(fake, "fake_live_streams"));
        assertEquals(0, FakeCuda.counter(fake, "fake_loaded_modules"));
    }

    @Test
    void aDeviceThatFailsToStartLeavesNothingBehind() {
        String tooNew = FakeCuda.library("FAKE_MODULE_RESULT=222");
        CudaProbe.Result probe = CudaProbe.probe(tooNew);
        CudaException e = assertThrows(CudaException.class, probe::open);
        assertEquals("cuModuleLoadData failed: CUDA_ERROR_UNSUPPORTED_PTX_VERSION", e.getMessage());
        assertEquals(0, FakeCuda.counter(tooNew, "fake_context_refs"));
        assertEquals(0, FakeCuda.counter(tooNew, "fake_live_streams"));
        assertEquals(0, FakeCuda.counter(tooNew, "fake_context_depth"));
    }

    /**
     * A call refused for more rows than one launch covers changes nothing: before, the output's device twin was marked
     * current first, and the next toHost overwrote the caller's values with device memory never written.
     */
    @Test
    void aLinearRefusedForItsRowCountLeavesTheOutputAsItWas() {
        try (CudaBackend cuda = open(); Arena arena = Arena.ofConfined()) {
            int rows = 2_100_000; // past the 65,535 × 32 rows of one launch of the BF16 kernel
            LinearWeights w = cuda.prepareLinear(tensor(arena, DType.BF16, 1, 1), null);
            float[] x = new float[rows], y = new float[rows];
            java.util.Arrays.fill(y, 7f);
            cuda.keepOnDevice(y);
            int launches = FakeCuda.counter(lib, "fake_launches");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cuda.linear(x, rows, w, y, Activation.NONE));
            assertTrue(e.getMessage().contains("rows per call"), e.getMessage());
            cuda.toHost(y);
            assertEquals(7f, y[0]);
            assertEquals(7f, y[rows - 1]);
            assertEquals(launches, FakeCuda.counter(lib, "fake_launches"));
        }
    }

    /** After a device fault every free fails alike: close() logs one warning with the rest attached, not one per buffer. */
    @Test
    void closeAfterADeviceFaultLogsOneWarning() {
        String faulted = FakeCuda.library("FAKE_TAG=free_fault", "FAKE_FREE_RESULT=700");
        CudaProbe.Result probe = CudaProbe.probe(faulted);
        assertTrue(probe.usable(), probe::description);
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger(CudaBackend.class.getName());
        List<java.util.logging.LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override public void publish(java.util.logging.LogRecord r) { if (r.getMessage().startsWith("CudaBackend.close")) records.add(r); }
            @Override public void flush() {}
            @Override public void close() {}
        };
        logger.addHandler(handler);
        try (Arena arena = Arena.ofConfined()) {
            CudaBackend cuda = probe.open();
            for (int i = 0; i < 20; i++) cuda.prepareLinear(tensor(arena, DType.F32, 4, 4), null);
            cuda.close();
        } finally {
            logger.removeHandler(handler);
        }
        assertEquals(1, records.size(), "warnings: " + records.stream().map(java.util.logging.LogRecord::getMessage).toList());
        assertTrue(records.getFirst().getMessage().contains("more failures, attached"), records.getFirst().getMessage());
        assertTrue(records.getFirst().getThrown().getSuppressed().length >= 19, "the other frees' failures are attached");
    }

    @Test
    void argumentsTheKernelsCannotTakeAreRefusedBeforeTheDevice() {
        try (CudaBackend cuda = open(); CpuBackend cpu = new CpuBackend(1); Arena arena = Arena.ofConfined()) {
            Tensor t = tensor(arena, DType.F32, 2, 2);
            LinearWeights foreign = cpu.prepareLinear(t, null);
            assertThrows(IllegalArgumentException.class, () -> cuda.linear(new float[2], 1, foreign, new float[2], Activation.NONE));
            CudaBackend other = open();
            LinearWeights others = other.prepareLinear(t, null);
            assertThrows(IllegalArgumentException.class, () -> cuda.linear(new float[2], 1, others, new float[2], Activation.NONE));
            other.close();
            int launches = FakeCuda.counter(lib, "fake_launches");
            // keyLengths beyond the sequence would make the kernel read another sequence's rows
            assertThrows(IllegalArgumentException.class,
                    () -> cuda.attention(new float[3 * 3 * 8], new int[]{0, 3}, new int[]{4}, 1, 8, new float[3 * 8]));
            assertThrows(IllegalArgumentException.class,
                    () -> cuda.attention(new float[3 * 257], new int[]{0, 1}, 1, 257, new float[257]));
            assertThrows(IllegalArgumentException.class,
                    () -> cuda.attention(new float[48], new int[]{0, 2, 1}, 1, 8, new float[16]));
            assertThrows(IllegalArgumentException.class,
                    () -> cuda.maxSim(new float[4], 1, new float[4], new int[]{0, 2}, 4, new float[1]));
            assertEquals(launches, FakeCuda.counter(lib, "fake_launches"));
        }
    }
}
