package dev.rerank4j.backend;

import dev.rerank4j.Options.BackendChoice;
import dev.rerank4j.backend.cuda.CudaException;
import dev.rerank4j.backend.cuda.CudaProbe;
import dev.rerank4j.backend.cuda.FakeCuda;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Backend selection on machines played by the fake libcuda (src/test/c/fake_libcuda.c). */
class BackendsTest {

    @Test
    void autoFallsBackToTheCpuAndSaysWhyWhenCuInitFails() {
        String lib = FakeCuda.library("FAKE_INIT_RESULT=100");
        Backends.Selection s = Backends.select(BackendChoice.AUTO, 1, () -> CudaProbe.probe(lib));
        try (Backend b = s.backend()) {
            assertEquals("cpu", b.name());
            assertEquals("AUTO: no usable CUDA device (cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected))",
                    s.reason());
        }
    }

    @Test
    void autoFallsBackToTheCpuWhenTheDriverLibraryIsMissing() {
        Backends.Selection s = Backends.select(BackendChoice.AUTO, 1, () -> CudaProbe.probe("libcuda-absent-for-this-test.so.1"));
        try (Backend b = s.backend()) {
            assertEquals("cpu", b.name());
            assertTrue(s.reason().startsWith("AUTO: no usable CUDA device (libcuda-absent-for-this-test.so.1 not found"), s.reason());
        }
    }

    @Test
    void autoFallsBackToTheCpuWhenTheDeviceIsTooOld() {
        String lib = FakeCuda.library("FAKE_CC_MAJOR=7", "FAKE_CC_MINOR=5");
        Backends.Selection s = Backends.select(BackendChoice.AUTO, 1, () -> CudaProbe.probe(lib));
        try (Backend b = s.backend()) {
            assertEquals("cpu", b.name());
            assertTrue(s.reason().contains("compute capability 7.5"), s.reason());
        }
    }

    @Test
    void autoFallsBackToTheCpuWhenTheDeviceFailsToStart() {
        String lib = FakeCuda.library("FAKE_MODULE_RESULT=222");
        Backends.Selection s = Backends.select(BackendChoice.AUTO, 1, () -> CudaProbe.probe(lib));
        try (Backend b = s.backend()) {
            assertEquals("cpu", b.name());
            assertTrue(s.reason().contains("failed to start") && s.reason().contains("CUDA_ERROR_UNSUPPORTED_PTX_VERSION"), s.reason());
        }
    }

    @Test
    void autoTakesACudaDeviceOfComputeCapability8() {
        String lib = FakeCuda.library("FAKE_TAG=backends_test");
        Backends.Selection s = Backends.select(BackendChoice.AUTO, 1, () -> CudaProbe.probe(lib));
        try (Backend b = s.backend()) {
            assertEquals("cuda", b.name());
            assertEquals("AUTO: device 0: Fake GPU 0, compute capability 8.0, driver CUDA 12.4", s.reason());
        }
        assertEquals(0, FakeCuda.counter(lib, "fake_context_refs"));
    }

    @Test
    void cudaOnDemandWithoutADeviceFailsNamingWhatIsMissing() {
        String lib = FakeCuda.library("FAKE_DEVICES=0");
        CudaException e = assertThrows(CudaException.class, () -> Backends.select(BackendChoice.CUDA, 1, () -> CudaProbe.probe(lib)));
        assertEquals("the CUDA backend was requested but cannot be used: " + lib + " reports no CUDA device", e.getMessage());
        assertTrue(e instanceof IllegalStateException);
    }

    @Test
    void cudaOnDemandOnATooOldDeviceNamesItsComputeCapability() {
        String lib = FakeCuda.library("FAKE_CC_MAJOR=7", "FAKE_CC_MINOR=5");
        CudaException e = assertThrows(CudaException.class, () -> Backends.select(BackendChoice.CUDA, 1, () -> CudaProbe.probe(lib)));
        assertTrue(e.getMessage().contains("compute capability 7.5") && e.getMessage().contains("8.0 or newer"), e.getMessage());
    }

    /** The first device is busy and the second starts: the reason names the second, the one the backend runs on. */
    @Test
    void theReasonNamesTheDeviceThatStartedNotTheFirstFound() {
        String lib = FakeCuda.library("FAKE_DEVICES=2", "FAKE_BUSY_DEVICE=0");
        for (BackendChoice choice : new BackendChoice[] {BackendChoice.AUTO, BackendChoice.CUDA}) {
            Backends.Selection s = Backends.select(choice, 1, () -> CudaProbe.probe(lib));
            try (Backend b = s.backend()) {
                assertEquals("cuda", b.name());
                assertTrue(s.reason().endsWith(": device 1: Fake GPU 1, compute capability 8.0, driver CUDA 12.4"), s.reason());
            }
        }
    }

    @Test
    void cpuIsTakenWithoutProbingForCuda() {
        Backends.Selection s = Backends.select(BackendChoice.CPU, 1, () -> fail("CPU must not probe for CUDA"));
        try (Backend b = s.backend()) {
            assertEquals("cpu", b.name());
        }
    }

    @Test
    void cpuThreadsStopAtTheProcessors() {
        int processors = Runtime.getRuntime().availableProcessors();
        try (Backend b = Backends.select(BackendChoice.CPU, processors + 64, () -> fail("no probe")).backend()) {
            assertEquals(processors, b.lanes());
        }
        try (Backend b = Backends.select(BackendChoice.AUTO, processors + 64,
                () -> CudaProbe.probe("libcuda-absent-for-this-test.so.1")).backend()) {
            assertEquals(processors, b.lanes());
        }
    }
}
