// Just enough CUDA to run src/main/cuda/kernels.cu on the CPU, for the tests (EmulatedKernelsTest): every
// CUDA thread is a std::thread, blocks run one after another (so a function-level `static` is the block's
// shared memory), __syncthreads is a barrier over the block and a warp shuffle is an exchange between two
// barriers over the warp. WMMA fragments hold the whole 16 x 16 tile in every lane, and the loads check the
// 32-byte alignment the hardware demands. Slow (a thread per CUDA thread): for small sizes only.
#pragma once
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <math.h>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
#define __restrict__ __restrict

// CUDA's float4: 16-byte aligned, as the device's vector loads and stores need.
struct __attribute__((aligned(16))) float4 {
    float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }

struct emu_dim3 {
    unsigned x = 0, y = 0, z = 0;
};
inline thread_local emu_dim3 threadIdx, blockIdx, blockDim;

struct emu_sync {
    std::barrier<>* block = nullptr;
    std::barrier<>* warp = nullptr;
    float* exchange = nullptr; // 32 floats for this thread's warp
};
inline thread_local emu_sync emu;
// The first misuse a kernel made (a misaligned WMMA pointer, ...); the launch reports it as an error.
inline char emu_error[256];

inline void __syncthreads() { emu.block->arrive_and_wait(); }

inline void emu_syncwarp() { emu.warp->arrive_and_wait(); }

inline float __shfl_sync(unsigned, float v, int src) {
    int lane = threadIdx.x & 31;
    emu.exchange[lane] = v;
    emu_syncwarp();
    float r = emu.exchange[src & 31];
    emu_syncwarp();
    return r;
}

inline int min(int a, int b) { return a < b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }

inline float __shfl_xor_sync(unsigned, float v, int offset) {
    int lane = threadIdx.x & 31;
    emu.exchange[lane] = v;
    emu_syncwarp();
    float r = emu.exchange[lane ^ offset];
    emu_syncwarp();
    return r;
}

// ---- half-precision types, rounding to nearest even as the CUDA intrinsics do
struct __nv_bfloat16 {
    uint16_t bits;
};
struct __half {
    _Float16 value;
};

inline __nv_bfloat16 __float2bfloat16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) == 0x7f800000u) return {(uint16_t)((u >> 16) | ((u & 0xffffu) ? 0x40u : 0u))};
    u += 0x7fffu + ((u >> 16) & 1u);
    return {(uint16_t)(u >> 16)};
}
inline float __bfloat162float(__nv_bfloat16 b) {
    uint32_t u = (uint32_t)b.bits << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline __half __float2half(float f) { return {(_Float16)f}; }
inline float __half2float(__half h) { return (float)h.value; }

inline float emu_to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
inline float emu_to_float(__half v) { return __half2float(v); }

// ---- WMMA, m16n16k16 only
namespace nvcuda {
namespace wmma {
struct row_major {};
struct col_major {};
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
enum layout_t { mem_row_major, mem_col_major };

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
    float v[16 * 16]; // half-precision values are exact in float
};

inline bool emu_aligned(const void* p, const char* what) {
    if (((uintptr_t)p & 31u) == 0) return true;
    if (emu_error[0] == 0) std::snprintf(emu_error, sizeof emu_error, "%s: pointer %p is not 32-byte aligned", what, p);
    return false;
}

template <class F>
inline void fill_fragment(F& f, float x) {
    for (float& e : f.v) e = x;
}

// A (m x k), row-major: element (m, k) at p[m * ldm + k]
template <class T>
inline void load_matrix_sync(fragment<matrix_a, 16, 16, 16, T, row_major>& f, const T* p, unsigned ldm) {
    if (!emu_aligned(p, "load_matrix_sync(matrix_a)")) return;
    for (int m = 0; m < 16; m++)
        for (int k = 0; k < 16; k++) f.v[m * 16 + k] = emu_to_float(p[m * ldm + k]);
}

// B (k x n), column-major: element (k, n) at p[n * ldm + k]
template <class T>
inline void load_matrix_sync(fragment<matrix_b, 16, 16, 16, T, col_major>& f, const T* p, unsigned ldm) {
    if (!emu_aligned(p, "load_matrix_sync(matrix_b)")) return;
    for (int k = 0; k < 16; k++)
        for (int n = 0; n < 16; n++) f.v[k * 16 + n] = emu_to_float(p[n * ldm + k]);
}

template <class T>
inline void mma_sync(fragment<accumulator, 16, 16, 16, float>& d, const fragment<matrix_a, 16, 16, 16, T, row_major>& a,
                     const fragment<matrix_b, 16, 16, 16, T, col_major>& b, const fragment<accumulator, 16, 16, 16, float>& c) {
    float out[16 * 16];
    for (int m = 0; m < 16; m++)
        for (int n = 0; n < 16; n++) {
            float s = c.v[m * 16 + n];
            for (int k = 0; k < 16; k++) s += a.v[m * 16 + k] * b.v[k * 16 + n];
            out[m * 16 + n] = s;
        }
    std::memcpy(d.v, out, sizeof out);
}

// Collective: lane 0 writes for the warp, the others wait for it.
inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 16, float>& f, unsigned ldm, layout_t layout) {
    emu_syncwarp();
    if ((threadIdx.x & 31) == 0 && emu_aligned(p, "store_matrix_sync") && layout == mem_row_major) {
        for (int m = 0; m < 16; m++)
            for (int n = 0; n < 16; n++) p[m * ldm + n] = f.v[m * 16 + n];
    }
    emu_syncwarp();
}
} // namespace wmma
} // namespace nvcuda
