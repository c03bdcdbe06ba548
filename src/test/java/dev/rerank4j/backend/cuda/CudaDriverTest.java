package dev.rerank4j.backend.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The FFM binding against a fake libcuda built from src/test/c/fake_libcuda.c: linking, arguments, results, errors. */
class CudaDriverTest {

    @Test
    void everyBoundFunctionLinksAndPassesItsArgumentsAndResults() {
        String lib = FakeCuda.library();
        CudaDriver cu = CudaDriver.load(lib);
        cu.init();
        assertEquals(12040, cu.driverVersion());
        assertEquals(1, cu.deviceCount());
        int device = cu.device(0);
        assertEquals(8, cu.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device));
        assertEquals(0, cu.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device));
        assertEquals("Fake GPU 0", cu.deviceName(device));

        MemorySegment ctx = cu.retainPrimaryContext(device);
        cu.pushContext(ctx);
        try (Arena a = Arena.ofConfined()) {
            byte[] sent = {1, 2, 3, 4, 5, 6, 7, 8, 9};
            MemorySegment host = a.allocate(sent.length);
            MemorySegment.copy(sent, 0, host, JAVA_BYTE, 0, sent.length);
            long d = cu.memAlloc(sent.length);
            assertEquals(1, FakeCuda.counter(lib, "fake_live_device_allocations"));
            cu.copyToDevice(d, host, sent.length);
            MemorySegment back = a.allocate(sent.length);
            cu.copyToHost(back, d, sent.length);
            assertArrayEquals(sent, back.toArray(JAVA_BYTE));

            MemorySegment stream = cu.streamCreate();
            MemorySegment pinned = cu.memAllocHost(sent.length);
            cu.copyToDeviceAsync(d, host, sent.length, stream);
            cu.copyToHostAsync(pinned, d, sent.length, stream);
            cu.streamSynchronize(stream);
            assertArrayEquals(sent, pinned.toArray(JAVA_BYTE));

            MemorySegment start = cu.eventCreate(), end = cu.eventCreate();
            cu.eventRecord(start, stream);
            cu.eventRecord(end, stream);
            cu.eventSynchronize(end);
            assertEquals(1.5f, cu.eventElapsedMillis(start, end));
            cu.eventDestroy(start);
            cu.eventDestroy(end);
            cu.streamDestroy(stream);
            cu.memFreeHost(pinned);
            cu.memFree(d);
        } finally {
            cu.popContext();
        }
        cu.releasePrimaryContext(device);
        assertEquals(0, FakeCuda.counter(lib, "fake_live_device_allocations"));
        assertEquals(0, FakeCuda.counter(lib, "fake_live_host_allocations"));
        assertEquals(0, FakeCuda.counter(lib, "fake_live_events"));
        assertEquals(0, FakeCuda.counter(lib, "fake_context_refs"));
    }

    @Test
    void aFailingCallBecomesAnExceptionNamingTheCallAndTheDriversErrorName() {
        CudaDriver cu = CudaDriver.load(FakeCuda.library("FAKE_INIT_RESULT=100"));
        CudaException e = assertThrows(CudaException.class, cu::init);
        assertEquals("cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)", e.getMessage());
        assertEquals("cuInit", e.call());
        assertEquals(100, e.result());
    }

    @Test
    void aResultTheDriverCannotNameIsGivenByNumber() {
        String lib = FakeCuda.library();
        CudaDriver cu = CudaDriver.load(lib);
        cu.init();
        int device = cu.device(0);
        cu.pushContext(cu.retainPrimaryContext(device));
        try (Arena a = Arena.ofConfined()) {
            // The fake answers 218 (CUDA_ERROR_INVALID_PTX) to an image that is not PTX, and has no name for it.
            CudaException e = assertThrows(CudaException.class, () -> cu.moduleLoadData(a.allocateFrom("not ptx")));
            assertEquals("cuModuleLoadData failed: CUresult 218", e.getMessage());
        } finally {
            cu.popContext();
            cu.releasePrimaryContext(device);
        }
    }

    @Test
    void aCallOutsideAContextReportsTheDriversError() {
        CudaDriver cu = CudaDriver.load(FakeCuda.library());
        cu.init();
        CudaException e = assertThrows(CudaException.class, () -> cu.memAlloc(16));
        assertEquals("cuMemAlloc_v2 failed: CUDA_ERROR_INVALID_CONTEXT (invalid device context)", e.getMessage());
    }

    @Test
    void aMissingLibraryIsNamedInsteadOfCrashing() {
        CudaException e = assertThrows(CudaException.class, () -> CudaDriver.load("libcuda-absent-for-this-test.so.1"));
        assertTrue(e.getMessage().startsWith("libcuda-absent-for-this-test.so.1 not found: the NVIDIA driver is not installed"),
                e.getMessage());
    }

    @Test
    void aLibraryLackingAFunctionIsRejectedWithItsName() {
        String withoutLaunch = FakeCuda.library("FAKE_OMIT_LAUNCH");
        CudaException e = assertThrows(CudaException.class, () -> CudaDriver.load(withoutLaunch));
        assertTrue(e.getMessage().contains("does not export cuLaunchKernel"), e.getMessage());
    }

    @Test
    void copiesRefuseHeapAndTooShortSegmentsBeforeCallingTheDriver() {
        CudaDriver cu = CudaDriver.load(FakeCuda.library());
        assertThrows(IllegalArgumentException.class, () -> cu.copyToDevice(1, MemorySegment.ofArray(new byte[8]), 8));
        try (Arena a = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> cu.copyToHost(a.allocate(4), 1, 8));
        }
    }
}
