/*
 * A fake libcuda.so for the tests of dev.rerank4j.backend.cuda: it exports every driver function the
 * binding uses, with the same C signatures, so that loading it proves each downcall handle links and
 * each call's arguments and CUresult travel as intended. It has no GPU: "device memory" is malloc'd
 * host memory, copies are memcpy, launches only record what was launched.
 *
 * Compiled by FakeCuda at test time; the -D switches below choose the machine it pretends to be.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FAKE_INIT_RESULT
#define FAKE_INIT_RESULT 0 /* 100 = CUDA_ERROR_NO_DEVICE */
#endif
#ifndef FAKE_DEVICES
#define FAKE_DEVICES 1
#endif
#ifndef FAKE_CC_MAJOR
#define FAKE_CC_MAJOR 8
#endif
#ifndef FAKE_CC_MINOR
#define FAKE_CC_MINOR 0
#endif
#ifndef FAKE_MODULE_RESULT
#define FAKE_MODULE_RESULT 0 /* 222 = CUDA_ERROR_UNSUPPORTED_PTX_VERSION, as a driver too old for the PTX says */
#endif
#ifndef FAKE_DRIVER_VERSION
#define FAKE_DRIVER_VERSION 12040
#endif
/* -DFAKE_ALLOC_LIMIT=n fails every cuMemAlloc after the n-th with CUDA_ERROR_OUT_OF_MEMORY, as a full GPU does. */
/* -DFAKE_BUSY_DEVICE=n: device n refuses a context (CUDA_ERROR_DEVICE_UNAVAILABLE), as a taken exclusive-process GPU does. */
/* -DFAKE_NULL_HOST makes cuMemAllocHost report success with a NULL pointer, as a broken driver might. */
/* -DFAKE_OMIT_LAUNCH leaves cuLaunchKernel out, as a library that is not the CUDA driver would. */
/* -DFAKE_FREE_RESULT=n fails every cuMemFree with n, as a context after a device fault does. */
/* -DFAKE_EMULATE runs each launch on the CPU (emulation/emulator.cpp, linked in) instead of only recording it. */
#ifdef FAKE_EMULATE
int emulate_launch(const char *name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   void **params);
#endif

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

#define CUDA_SUCCESS 0
#define CUDA_ERROR_INVALID_VALUE 1
#define CUDA_ERROR_NOT_INITIALIZED 3
#define CUDA_ERROR_NO_DEVICE 100
#define CUDA_ERROR_INVALID_DEVICE 101
#define CUDA_ERROR_INVALID_CONTEXT 201
#define CUDA_ERROR_NOT_FOUND 500

static int initialized;
static int live_device_allocations, live_host_allocations, context_refs, context_depth, loaded_modules, launches;
static int live_streams, live_events;
static char last_launch[256];
static char *module_image;
static int context_token; /* the address of this is the fake CUcontext */

/* ---- what the tests read back */
int fake_live_device_allocations(void) { return live_device_allocations; }
int fake_live_host_allocations(void) { return live_host_allocations; }
int fake_context_refs(void) { return context_refs; }
int fake_context_depth(void) { return context_depth; }
int fake_loaded_modules(void) { return loaded_modules; }
int fake_live_streams(void) { return live_streams; }
int fake_live_events(void) { return live_events; }
int fake_launches(void) { return launches; }
/* Switches a test flips through FakeCuda.counter: the next cuStreamSynchronize fails as a crashed kernel does
   (700, CUDA_ERROR_ILLEGAL_ADDRESS), the next cuCtxPopCurrent fails after popping. */
static int fail_next_sync, fail_next_pop;
int fake_fail_next_sync(void) { fail_next_sync = 1; return 0; }
int fake_fail_next_pop(void) { fail_next_pop = 1; return 0; }
const char *fake_last_launch(void) { return last_launch; }

/* ---- the driver API */
CUresult cuInit(unsigned int flags) {
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    if (FAKE_INIT_RESULT == 0) initialized = 1;
    return FAKE_INIT_RESULT;
}

CUresult cuDriverGetVersion(int *version) { *version = FAKE_DRIVER_VERSION; return CUDA_SUCCESS; }

CUresult cuDeviceGetCount(int *count) {
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    *count = FAKE_DEVICES;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
    if (ordinal < 0 || ordinal >= FAKE_DEVICES) return CUDA_ERROR_INVALID_DEVICE;
    *device = ordinal;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice device) {
    if (device < 0 || device >= FAKE_DEVICES) return CUDA_ERROR_INVALID_DEVICE;
    if (attribute == 75) *value = FAKE_CC_MAJOR;
    else if (attribute == 76) *value = FAKE_CC_MINOR;
    else return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice device) {
    if (device < 0 || device >= FAKE_DEVICES || len < 1) return CUDA_ERROR_INVALID_VALUE;
    snprintf(name, (size_t)len, "Fake GPU %d", device);
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(void **ctx, CUdevice device) {
    if (device < 0 || device >= FAKE_DEVICES) return CUDA_ERROR_INVALID_DEVICE;
#ifdef FAKE_BUSY_DEVICE
    if (device == FAKE_BUSY_DEVICE) return 46; /* CUDA_ERROR_DEVICE_UNAVAILABLE: exclusive-process mode, taken */
#endif
    context_refs++;
    *ctx = &context_token;
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
    if (context_refs == 0) return CUDA_ERROR_INVALID_CONTEXT;
    context_refs--;
    return CUDA_SUCCESS;
}

CUresult cuCtxPushCurrent_v2(void *ctx) {
    if (ctx != &context_token) return CUDA_ERROR_INVALID_CONTEXT;
    context_depth++;
    return CUDA_SUCCESS;
}

CUresult cuCtxPopCurrent_v2(void **ctx) {
    if (context_depth == 0) return CUDA_ERROR_INVALID_CONTEXT;
    context_depth--;
    if (ctx) *ctx = &context_token;
    if (fail_next_pop) { fail_next_pop = 0; return 999; }
    return CUDA_SUCCESS;
}

#define REQUIRE_CONTEXT() do { if (context_depth == 0) return CUDA_ERROR_INVALID_CONTEXT; } while (0)

CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) {
    REQUIRE_CONTEXT();
    if (bytes == 0) return CUDA_ERROR_INVALID_VALUE;
#ifdef FAKE_ALLOC_LIMIT
    { static int allocations; if (++allocations > FAKE_ALLOC_LIMIT) return 2; }
#endif
    void *m = malloc(bytes);
    if (!m) return 2; /* CUDA_ERROR_OUT_OF_MEMORY */
    live_device_allocations++;
    *p = (CUdeviceptr)m;
    return CUDA_SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr p) {
    REQUIRE_CONTEXT();
    if (p == 0) return CUDA_ERROR_INVALID_VALUE;
#ifdef FAKE_FREE_RESULT
    return FAKE_FREE_RESULT; /* a sticky fault (700 = CUDA_ERROR_ILLEGAL_ADDRESS): every free after it fails alike */
#endif
    free((void *)p);
    live_device_allocations--;
    return CUDA_SUCCESS;
}

CUresult cuMemAllocHost_v2(void **p, size_t bytes) {
    REQUIRE_CONTEXT();
    if (bytes == 0) return CUDA_ERROR_INVALID_VALUE;
#ifdef FAKE_NULL_HOST
    *p = 0;
    return CUDA_SUCCESS;
#endif
    *p = malloc(bytes);
    if (!*p) return 2;
    live_host_allocations++;
    return CUDA_SUCCESS;
}

CUresult cuMemFreeHost(void *p) {
    REQUIRE_CONTEXT();
    free(p);
    live_host_allocations--;
    return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes) {
    REQUIRE_CONTEXT();
    memcpy((void *)dst, src, bytes);
    return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes) {
    REQUIRE_CONTEXT();
    memcpy(dst, (const void *)src, bytes);
    return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t bytes, void *stream) {
    REQUIRE_CONTEXT();
    if (!stream) return CUDA_ERROR_INVALID_VALUE; /* the backend always uses its own stream */
    memcpy((void *)dst, src, bytes);
    return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t bytes, void *stream) {
    REQUIRE_CONTEXT();
    if (!stream) return CUDA_ERROR_INVALID_VALUE;
    memcpy(dst, (const void *)src, bytes);
    return CUDA_SUCCESS;
}

CUresult cuModuleLoadData(void **module, const void *image) {
    REQUIRE_CONTEXT();
    if (FAKE_MODULE_RESULT != 0) return FAKE_MODULE_RESULT;
    if (strncmp((const char *)image, "//", 2) != 0 || !strstr((const char *)image, ".target sm_80")) return 218; /* CUDA_ERROR_INVALID_PTX */
    free(module_image);
    module_image = strdup((const char *)image);
    loaded_modules++;
    *module = module_image;
    return CUDA_SUCCESS;
}

CUresult cuModuleUnload(void *module) {
    REQUIRE_CONTEXT();
    if (loaded_modules == 0 || module != module_image) return CUDA_ERROR_INVALID_VALUE;
    loaded_modules--;
    return CUDA_SUCCESS;
}

/* A function exists if the PTX has an entry of that name; the fake CUfunction is a copy of the name. */
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
    REQUIRE_CONTEXT();
    char entry[160];
    snprintf(entry, sizeof entry, ".entry %s(", name);
    if (!strstr((const char *)module, entry)) return CUDA_ERROR_NOT_FOUND;
    *function = strdup(name);
    return CUDA_SUCCESS;
}

#ifndef FAKE_OMIT_LAUNCH
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *stream, void **params, void **extra) {
    REQUIRE_CONTEXT();
    if (!f || !stream || !params || extra || gx == 0 || gy == 0 || gz == 0 || bx * by * bz > 1024) return CUDA_ERROR_INVALID_VALUE;
    launches++;
    snprintf(last_launch, sizeof last_launch, "%s grid=%u,%u,%u block=%u,%u,%u shared=%u",
             (const char *)f, gx, gy, gz, bx, by, bz, shared);
#ifdef FAKE_EMULATE
    return emulate_launch((const char *)f, gx, gy, gz, bx, by, bz, params);
#else
    return CUDA_SUCCESS;
#endif
}
#endif

static int stream_token, event_token;

CUresult cuStreamCreate(void **stream, unsigned int flags) { REQUIRE_CONTEXT(); live_streams++; *stream = &stream_token; return CUDA_SUCCESS; }
CUresult cuStreamSynchronize(void *stream) {
    REQUIRE_CONTEXT();
    if (fail_next_sync) { fail_next_sync = 0; return 700; }
    return stream == &stream_token ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }
CUresult cuStreamDestroy_v2(void *stream) { REQUIRE_CONTEXT(); live_streams--; return CUDA_SUCCESS; }

CUresult cuEventCreate(void **event, unsigned int flags) { REQUIRE_CONTEXT(); live_events++; *event = &event_token; return CUDA_SUCCESS; }
CUresult cuEventRecord(void *event, void *stream) { REQUIRE_CONTEXT(); return CUDA_SUCCESS; }
CUresult cuEventSynchronize(void *event) { return CUDA_SUCCESS; }
CUresult cuEventElapsedTime_v2(float *ms, void *start, void *end) { *ms = 1.5f; return CUDA_SUCCESS; }
CUresult cuEventDestroy_v2(void *event) { REQUIRE_CONTEXT(); live_events--; return CUDA_SUCCESS; }

CUresult cuGetErrorName(CUresult error, const char **name) {
    switch (error) {
        case CUDA_SUCCESS: *name = "CUDA_SUCCESS"; return CUDA_SUCCESS;
        case CUDA_ERROR_INVALID_VALUE: *name = "CUDA_ERROR_INVALID_VALUE"; return CUDA_SUCCESS;
        case CUDA_ERROR_NOT_INITIALIZED: *name = "CUDA_ERROR_NOT_INITIALIZED"; return CUDA_SUCCESS;
        case CUDA_ERROR_NO_DEVICE: *name = "CUDA_ERROR_NO_DEVICE"; return CUDA_SUCCESS;
        case CUDA_ERROR_INVALID_CONTEXT: *name = "CUDA_ERROR_INVALID_CONTEXT"; return CUDA_SUCCESS;
        case CUDA_ERROR_NOT_FOUND: *name = "CUDA_ERROR_NOT_FOUND"; return CUDA_SUCCESS;
        case 222: *name = "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"; return CUDA_SUCCESS;
        default: *name = NULL; return CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult cuGetErrorString(CUresult error, const char **text) {
    switch (error) {
        case CUDA_ERROR_NO_DEVICE: *text = "no CUDA-capable device is detected"; return CUDA_SUCCESS;
        case CUDA_ERROR_INVALID_CONTEXT: *text = "invalid device context"; return CUDA_SUCCESS;
        default: *text = NULL; return CUDA_ERROR_INVALID_VALUE;
    }
}
