package dev.rerank4j.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Downcalls into the CUDA driver API ({@code libcuda.so.1}) through {@code java.lang.foreign}: no JNI, no
 * generated bindings. Every function is looked up when the library is loaded, so a driver lacking one
 * fails here with its name rather than at first use. Every call's CUresult is checked: anything but
 * CUDA_SUCCESS becomes a {@link CudaException} naming the call and the driver's error name.
 *
 * <p>Types as the 64-bit Linux ABI has them: CUresult, CUdevice, enums and {@code unsigned int} are
 * {@code int}; CUdeviceptr and {@code size_t} are {@code long}; handles (CUcontext, CUmodule, CUfunction,
 * CUstream, CUevent) are pointers. Where cuda.h maps a name to a versioned symbol (cuMemAlloc →
 * cuMemAlloc_v2) the versioned one is bound, as a program compiled against cuda.h would.
 */
@SuppressWarnings("restricted") // native access is this class's job; the JVM runs with --enable-native-access
final class CudaDriver {
    /** The driver library's soname, as the NVIDIA driver installs it. */
    static final String DEFAULT_LIBRARY = "libcuda.so.1";

    static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

    private static final MemoryLayout INT = JAVA_INT, LONG = JAVA_LONG, PTR = ADDRESS;

    private final String library;
    private final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetAttribute,
            cuDeviceGetName, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease, cuCtxPushCurrent, cuCtxPopCurrent,
            cuMemAlloc, cuMemFree, cuMemAllocHost, cuMemFreeHost, cuMemcpyHtoD, cuMemcpyDtoH, cuMemcpyHtoDAsync,
            cuMemcpyDtoHAsync, cuModuleLoadData, cuModuleUnload, cuModuleGetFunction, cuLaunchKernel, cuStreamCreate,
            cuStreamSynchronize, cuStreamDestroy, cuEventCreate, cuEventRecord, cuEventSynchronize, cuEventElapsedTime,
            cuEventDestroy, cuGetErrorName, cuGetErrorString;

    private CudaDriver(String library, SymbolLookup lookup) {
        this.library = library;
        Binder b = new Binder(library, lookup);
        cuInit = b.bind(List.of("cuInit"), INT);
        cuDriverGetVersion = b.bind(List.of("cuDriverGetVersion"), PTR);
        cuDeviceGetCount = b.bind(List.of("cuDeviceGetCount"), PTR);
        cuDeviceGet = b.bind(List.of("cuDeviceGet"), PTR, INT);
        cuDeviceGetAttribute = b.bind(List.of("cuDeviceGetAttribute"), PTR, INT, INT);
        cuDeviceGetName = b.bind(List.of("cuDeviceGetName"), PTR, INT, INT);
        cuDevicePrimaryCtxRetain = b.bind(List.of("cuDevicePrimaryCtxRetain"), PTR, INT);
        cuDevicePrimaryCtxRelease = b.bind(List.of("cuDevicePrimaryCtxRelease_v2"), INT);
        cuCtxPushCurrent = b.bind(List.of("cuCtxPushCurrent_v2"), PTR);
        cuCtxPopCurrent = b.bind(List.of("cuCtxPopCurrent_v2"), PTR);
        cuMemAlloc = b.bind(List.of("cuMemAlloc_v2"), PTR, LONG);
        cuMemFree = b.bind(List.of("cuMemFree_v2"), LONG);
        cuMemAllocHost = b.bind(List.of("cuMemAllocHost_v2"), PTR, LONG);
        cuMemFreeHost = b.bind(List.of("cuMemFreeHost"), PTR);
        cuMemcpyHtoD = b.bind(List.of("cuMemcpyHtoD_v2"), LONG, PTR, LONG);
        cuMemcpyDtoH = b.bind(List.of("cuMemcpyDtoH_v2"), PTR, LONG, LONG);
        cuMemcpyHtoDAsync = b.bind(List.of("cuMemcpyHtoDAsync_v2"), LONG, PTR, LONG, PTR);
        cuMemcpyDtoHAsync = b.bind(List.of("cuMemcpyDtoHAsync_v2"), PTR, LONG, LONG, PTR);
        cuModuleLoadData = b.bind(List.of("cuModuleLoadData"), PTR, PTR);
        cuModuleUnload = b.bind(List.of("cuModuleUnload"), PTR);
        cuModuleGetFunction = b.bind(List.of("cuModuleGetFunction"), PTR, PTR, PTR);
        cuLaunchKernel = b.bind(List.of("cuLaunchKernel"), PTR, INT, INT, INT, INT, INT, INT, INT, PTR, PTR, PTR);
        cuStreamCreate = b.bind(List.of("cuStreamCreate"), PTR, INT);
        cuStreamSynchronize = b.bind(List.of("cuStreamSynchronize"), PTR);
        cuStreamDestroy = b.bind(List.of("cuStreamDestroy_v2"), PTR);
        cuEventCreate = b.bind(List.of("cuEventCreate"), PTR, INT);
        cuEventRecord = b.bind(List.of("cuEventRecord"), PTR, PTR);
        cuEventSynchronize = b.bind(List.of("cuEventSynchronize"), PTR);
        // cuda.h of CUDA 12.8+ maps cuEventElapsedTime to _v2 (same signature); older drivers lack it.
        cuEventElapsedTime = b.bind(List.of("cuEventElapsedTime_v2", "cuEventElapsedTime"), PTR, PTR, PTR);
        cuEventDestroy = b.bind(List.of("cuEventDestroy_v2"), PTR);
        cuGetErrorName = b.bind(List.of("cuGetErrorName"), INT, PTR);
        cuGetErrorString = b.bind(List.of("cuGetErrorString"), INT, PTR);
    }

    /**
     * Loads {@code library} (a soname searched as dlopen does, or a path) and binds every function.
     *
     * @throws CudaException if the library cannot be loaded or lacks a function
     */
    static CudaDriver load(String library) {
        SymbolLookup lookup;
        try {
            // The global arena: the driver stays loaded for the life of the process, as it would for any
            // CUDA program (dlopen of the same library again just returns the same handle).
            lookup = library.contains("/")
                    ? SymbolLookup.libraryLookup(Path.of(library), Arena.global())
                    : SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException e) {
            // a path that exists but does not load is not a missing driver: say which it is
            String why = library.contains("/") && Files.exists(Path.of(library))
                    ? " could not be loaded as a shared library"
                    : " not found: the NVIDIA driver is not installed or not on the library path";
            throw new CudaException(library + why + " (" + e.getMessage() + ")");
        } catch (IllegalCallerException e) {
            // --illegal-native-access=deny, or a later JDK's default: the JVM refuses the call itself
            throw new CudaException("the JVM denies rerank4j native access, which the CUDA backend needs (java"
                    + " --enable-native-access=ALL-UNNAMED, or rerank4j's module): " + e.getMessage());
        }
        return new CudaDriver(library, lookup);
    }

    String library() {
        return library;
    }

    // ---- initialisation and devices

    void init() {
        check("cuInit", () -> (int) cuInit.invokeExact(0));
    }

    /** The driver's CUDA version as 1000 · major + 10 · minor (12040 is CUDA 12.4). */
    int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check("cuDriverGetVersion", () -> (int) cuDriverGetVersion.invokeExact(v));
            return v.get(JAVA_INT, 0);
        }
    }

    int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(JAVA_INT);
            check("cuDeviceGetCount", () -> (int) cuDeviceGetCount.invokeExact(n));
            return n.get(JAVA_INT, 0);
        }
    }

    int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = a.allocate(JAVA_INT);
            check("cuDeviceGet", () -> (int) cuDeviceGet.invokeExact(d, ordinal));
            return d.get(JAVA_INT, 0);
        }
    }

    int deviceAttribute(int attribute, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check("cuDeviceGetAttribute", () -> (int) cuDeviceGetAttribute.invokeExact(v, attribute, device));
            return v.get(JAVA_INT, 0);
        }
    }

    String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            int capacity = 256;
            MemorySegment name = a.allocate(capacity);
            check("cuDeviceGetName", () -> (int) cuDeviceGetName.invokeExact(name, capacity, device));
            return name.getString(0, StandardCharsets.UTF_8);
        }
    }

    // ---- contexts

    /** The device's primary context (the one the CUDA runtime shares), retained until {@link #releasePrimaryContext}. */
    MemorySegment retainPrimaryContext(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ctx = a.allocate(ADDRESS);
            check("cuDevicePrimaryCtxRetain", () -> (int) cuDevicePrimaryCtxRetain.invokeExact(ctx, device));
            return nonNull("cuDevicePrimaryCtxRetain", ctx.get(ADDRESS, 0));
        }
    }

    void releasePrimaryContext(int device) {
        check("cuDevicePrimaryCtxRelease_v2", () -> (int) cuDevicePrimaryCtxRelease.invokeExact(device));
    }

    void pushContext(MemorySegment ctx) {
        check("cuCtxPushCurrent_v2", () -> (int) cuCtxPushCurrent.invokeExact(ctx));
    }

    void popContext() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ctx = a.allocate(ADDRESS);
            check("cuCtxPopCurrent_v2", () -> (int) cuCtxPopCurrent.invokeExact(ctx));
        }
    }

    // ---- memory

    /** {@code bytes} of device memory (256-byte aligned); returns the CUdeviceptr. */
    long memAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cuMemAlloc_v2", () -> (int) cuMemAlloc.invokeExact(p, bytes));
            long devicePtr = p.get(JAVA_LONG, 0);
            if (devicePtr == 0) throw new CudaException("cuMemAlloc_v2 reported success but returned a null pointer");
            return devicePtr;
        }
    }

    void memFree(long devicePtr) {
        check("cuMemFree_v2", () -> (int) cuMemFree.invokeExact(devicePtr));
    }

    /** {@code bytes} of page-locked host memory, which async copies need to be truly asynchronous. */
    MemorySegment memAllocHost(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuMemAllocHost_v2", () -> (int) cuMemAllocHost.invokeExact(p, bytes));
            return nonNull("cuMemAllocHost_v2", p.get(ADDRESS, 0)).reinterpret(bytes);
        }
    }

    void memFreeHost(MemorySegment host) {
        check("cuMemFreeHost", () -> (int) cuMemFreeHost.invokeExact(host));
    }

    /** Synchronous copy of {@code bytes} from {@code host} (any native segment) to the device. */
    void copyToDevice(long dst, MemorySegment host, long bytes) {
        requireNative(host, bytes);
        check("cuMemcpyHtoD_v2", () -> (int) cuMemcpyHtoD.invokeExact(dst, host, bytes));
    }

    void copyToHost(MemorySegment host, long src, long bytes) {
        requireNative(host, bytes);
        check("cuMemcpyDtoH_v2", () -> (int) cuMemcpyDtoH.invokeExact(host, src, bytes));
    }

    void copyToDeviceAsync(long dst, MemorySegment host, long bytes, MemorySegment stream) {
        requireNative(host, bytes);
        check("cuMemcpyHtoDAsync_v2", () -> (int) cuMemcpyHtoDAsync.invokeExact(dst, host, bytes, stream));
    }

    void copyToHostAsync(MemorySegment host, long src, long bytes, MemorySegment stream) {
        requireNative(host, bytes);
        check("cuMemcpyDtoHAsync_v2", () -> (int) cuMemcpyDtoHAsync.invokeExact(host, src, bytes, stream));
    }

    /** The driver reads {@code bytes} through the raw address: a heap or too-short segment would be a crash. */
    private static void requireNative(MemorySegment host, long bytes) {
        if (!host.isNative()) throw new IllegalArgumentException("CUDA copies need a native segment, got a heap one");
        if (host.byteSize() < bytes) {
            throw new IllegalArgumentException("segment of " + host.byteSize() + " bytes is shorter than the " + bytes + " to copy");
        }
    }

    // ---- modules and launches

    /** Loads a NUL-terminated PTX image (the driver JIT-compiles it for the current context's device). */
    MemorySegment moduleLoadData(MemorySegment image) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment module = a.allocate(ADDRESS);
            check("cuModuleLoadData", () -> (int) cuModuleLoadData.invokeExact(module, image));
            return nonNull("cuModuleLoadData", module.get(ADDRESS, 0));
        }
    }

    void moduleUnload(MemorySegment module) {
        check("cuModuleUnload", () -> (int) cuModuleUnload.invokeExact(module));
    }

    MemorySegment moduleGetFunction(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment function = a.allocate(ADDRESS);
            MemorySegment cName = a.allocateFrom(name);
            check("cuModuleGetFunction(" + name + ")", () -> (int) cuModuleGetFunction.invokeExact(function, module, cName));
            return nonNull("cuModuleGetFunction(" + name + ")", function.get(ADDRESS, 0));
        }
    }

    /** Queues {@code function} on {@code stream}; {@code params} is the {@code void**} array of {@link KernelArgs}. */
    void launchKernel(String name, MemorySegment function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                      int sharedBytes, MemorySegment stream, MemorySegment params) {
        check("cuLaunchKernel(" + name + ")", () -> (int) cuLaunchKernel.invokeExact(function, gridX, gridY, gridZ,
                blockX, blockY, blockZ, sharedBytes, stream, params, MemorySegment.NULL));
    }

    // ---- streams and events

    MemorySegment streamCreate() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment stream = a.allocate(ADDRESS);
            check("cuStreamCreate", () -> (int) cuStreamCreate.invokeExact(stream, 0));
            return stream.get(ADDRESS, 0);
        }
    }

    /** Waits for everything queued on {@code stream}; a kernel's own failure surfaces here. */
    void streamSynchronize(MemorySegment stream) {
        check("cuStreamSynchronize", () -> (int) cuStreamSynchronize.invokeExact(stream));
    }

    void streamDestroy(MemorySegment stream) {
        check("cuStreamDestroy_v2", () -> (int) cuStreamDestroy.invokeExact(stream));
    }

    MemorySegment eventCreate() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment event = a.allocate(ADDRESS);
            check("cuEventCreate", () -> (int) cuEventCreate.invokeExact(event, 0));
            return event.get(ADDRESS, 0);
        }
    }

    void eventRecord(MemorySegment event, MemorySegment stream) {
        check("cuEventRecord", () -> (int) cuEventRecord.invokeExact(event, stream));
    }

    void eventSynchronize(MemorySegment event) {
        check("cuEventSynchronize", () -> (int) cuEventSynchronize.invokeExact(event));
    }

    /** Milliseconds between two recorded, completed events. */
    float eventElapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ms = a.allocate(JAVA_FLOAT);
            check("cuEventElapsedTime", () -> (int) cuEventElapsedTime.invokeExact(ms, start, end));
            return ms.get(JAVA_FLOAT, 0);
        }
    }

    void eventDestroy(MemorySegment event) {
        check("cuEventDestroy_v2", () -> (int) cuEventDestroy.invokeExact(event));
    }

    // ---- errors

    /** The driver's name for a CUresult ("CUDA_ERROR_NO_DEVICE"), or "CUresult n" if it knows none. */
    String errorName(int result) {
        return errorText(cuGetErrorName, result, "CUresult " + result);
    }

    /** The driver's description of a CUresult, or null if it has none. */
    String errorString(int result) {
        return errorText(cuGetErrorString, result, null);
    }

    private static String errorText(MethodHandle h, int result, String fallback) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int r = (int) h.invokeExact(result, p);
            MemorySegment s = p.get(ADDRESS, 0);
            if (r != 0 || s.equals(MemorySegment.NULL)) return fallback;
            // A static C string of the driver's: its length is unknown until the NUL, 4 KiB bounds the search.
            return s.reinterpret(4096).getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            return fallback;
        }
    }

    @FunctionalInterface
    private interface Call {
        int invoke() throws Throwable;
    }

    /** A handle or buffer the driver returned: a null one is refused here, before a copy into it crashes the JVM. */
    private static MemorySegment nonNull(String call, MemorySegment returned) {
        if (returned.address() == 0) throw new CudaException(call + " reported success but returned a null pointer");
        return returned;
    }

    private void check(String call, Call body) {
        int result;
        try {
            result = body.invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(call + ": downcall failed", t);
        }
        if (result != 0) throw new CudaException(call, result, errorName(result), errorString(result));
    }

    /** Looks up each function and links its downcall handle; all CUDA driver functions return CUresult. */
    private record Binder(String library, SymbolLookup lookup) {
        MethodHandle bind(List<String> names, MemoryLayout... args) {
            for (String name : names) {
                var symbol = lookup.find(name);
                if (symbol.isPresent()) {
                    return Linker.nativeLinker().downcallHandle(symbol.get(), FunctionDescriptor.of(JAVA_INT, args));
                }
            }
            throw new CudaException(library + " does not export " + String.join(" or ", names) + (lookup.find("cuInit").isEmpty()
                    ? ": it is not the NVIDIA driver library"
                    : ": the NVIDIA driver is too old (rerank4j needs the driver of CUDA 12.0 or newer)"));
        }
    }
}
