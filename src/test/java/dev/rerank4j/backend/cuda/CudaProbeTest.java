package dev.rerank4j.backend.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the probe says about each kind of machine, played by the fake libcuda. */
class CudaProbeTest {

    @Test
    void aMissingDriverLibraryIsTheReason() {
        CudaProbe.Result r = CudaProbe.probe("/nonexistent/libcuda.so.1");
        assertFalse(r.usable());
        assertTrue(r.description().startsWith("/nonexistent/libcuda.so.1 not found"), r.description());
    }

    @Test
    void aFileThatIsNotALibraryOrNotTheDriverIsSaidToBeSo(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path text = java.nio.file.Files.writeString(dir.resolve("libcuda.so.1"), "not a library");
        CudaProbe.Result notElf = CudaProbe.probe(text.toString());
        assertTrue(notElf.description().startsWith(text + " could not be loaded as a shared library"), notElf.description());
        CudaProbe.Result libc = CudaProbe.probe("libc.so.6");
        org.junit.jupiter.api.Assumptions.assumeFalse(libc.description().contains("not found"), "no libc.so.6 here: " + libc);
        assertTrue(libc.description().endsWith("it is not the NVIDIA driver library"), libc.description());
    }

    @Test
    void aFailingCuInitIsTheReason() {
        CudaProbe.Result r = CudaProbe.probe(FakeCuda.library("FAKE_INIT_RESULT=100"));
        assertFalse(r.usable());
        assertEquals("cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)", r.description());
    }

    @Test
    void aDriverWithoutDevicesIsTheReason() {
        String lib = FakeCuda.library("FAKE_DEVICES=0");
        CudaProbe.Result r = CudaProbe.probe(lib);
        assertFalse(r.usable());
        assertEquals(lib + " reports no CUDA device", r.description());
    }

    @Test
    void aDriverOlderThanCuda12IsRefusedWithItsVersionAndANegativeCountMeansNoDevice() {
        CudaProbe.Result old = CudaProbe.probe(FakeCuda.library("FAKE_DRIVER_VERSION=11040"));
        assertFalse(old.usable());
        assertEquals("driver CUDA 11.4 is too old: rerank4j's CUDA kernels need CUDA 12.0 or newer", old.description());
        String negative = FakeCuda.library("FAKE_DEVICES=-1");
        assertEquals(negative + " reports no CUDA device", CudaProbe.probe(negative).description());
    }

    @Test
    void aDeviceBelowComputeCapability8IsRefusedWithItsCapability() {
        CudaProbe.Result r = CudaProbe.probe(FakeCuda.library("FAKE_CC_MAJOR=7", "FAKE_CC_MINOR=5"));
        assertFalse(r.usable());
        assertEquals("device 0: Fake GPU 0, compute capability 7.5: rerank4j's CUDA kernels need compute capability 8.0 or newer",
                r.description());
        CudaException e = assertThrows(CudaException.class, r::open);
        assertTrue(e.getMessage().contains("compute capability 7.5"), e.getMessage());
    }

    @Test
    void aComputeCapability8DeviceIsUsableAndDescribed() {
        CudaProbe.Result r = CudaProbe.probe(FakeCuda.library());
        assertTrue(r.usable());
        assertEquals("device 0: Fake GPU 0, compute capability 8.0, driver CUDA 12.4", r.description());
    }

    /** A GPU in exclusive-process mode that another process holds: the next capable device takes the work. */
    @Test
    void aBusyDeviceLeavesTheWorkToTheNext() {
        CudaProbe.Result two = CudaProbe.probe(FakeCuda.library("FAKE_DEVICES=2", "FAKE_BUSY_DEVICE=0"));
        try (CudaBackend backend = two.open()) {
            assertTrue(backend.description().startsWith("device 1: Fake GPU 1"), backend.description());
        }
        CudaProbe.Result one = CudaProbe.probe(FakeCuda.library("FAKE_DEVICES=1", "FAKE_BUSY_DEVICE=0"));
        CudaException e = assertThrows(CudaException.class, one::open);
        assertTrue(e.getMessage().startsWith("cuDevicePrimaryCtxRetain failed"), e.getMessage());
    }
}
