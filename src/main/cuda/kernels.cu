// rerank4j's CUDA kernels, compiled to one PTX file by tools/build-ptx and loaded by
// dev.rerank4j.backend.cuda.Kernels. Each kernel mirrors one method of dev.rerank4j.backend.Backend;
// the Java javadoc there is the contract, CudaBackend says how each kernel is launched.
//
// These are written to be obviously right first: every global read and write is bounds-checked, tails
// are zero-filled in shared memory, and reductions run in a fixed order. Only the two that held the GPU time
// of a bge-base forward pass are tuned (ncu, 2026-12-04, H200): linear_f32 (76% of it: register tiles,
// vector loads) and, after that, attention (36%: attention_tiled).
// Activations are row-major F32; weights are [out, in] row-major (F32, BF16 or F16).

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

// Must match dev.rerank4j.backend.Activation's ordinals (CudaBackend passes ordinal()).
#define ACT_NONE 0
#define ACT_GELU 1
#define ACT_TANH 2
#define ACT_RELU 3

__device__ __forceinline__ float activate(float v, int act) {
    if (act == ACT_GELU) return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f)); // HF "gelu", erf form
    if (act == ACT_TANH) return tanhf(v);
    if (act == ACT_RELU) return fmaxf(v, 0.0f);
    return v;
}

// The sequence holding token t: the last b with seqStarts[b] <= t. Empty sequences share their start with the next
// one, and taking the last such b skips them.
__device__ __forceinline__ int sequence_of(const int* __restrict__ seqStarts, int sequences, int t) {
    int lo = 0, hi = sequences - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) >> 1;
        if (seqStarts[mid] <= t) lo = mid; else hi = mid - 1;
    }
    return lo;
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v; // every lane holds the total
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the total.
// scratch: 32 floats of shared memory, free again when this returns.
__device__ float block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float t = lane < warps ? scratch[lane] : 0.0f;
        t = warp_sum(t);
        if (lane == 0) scratch[0] = t;
    }
    __syncthreads();
    float total = scratch[0];
    __syncthreads(); // nobody may overwrite scratch before everyone has read the total
    return total;
}

// ---------------------------------------------------------------------------------------------
// linear_f32 / linear_f32_wide: y[r, c] = act(sum_k x[r, k] * w[c, k] + bias[c]); bias may be null.
// Block: 256 threads (16 x 16) computing a T x T tile of y, T = 16 * TM. Each thread owns TM x TM
// outputs as (TM/4)^2 patches of 4 x 4 spaced 64 apart, so neighbouring threads read neighbouring
// 16-byte words of shared memory (no bank conflicts) and each read feeds 4 FMAs per register.
// k advances BK = 64 / TM at a time; each thread fetches 4 floats of x and 4 of w per step (one float4
// each where rows are 16-byte aligned), the next step's while it computes this one.
// linear_f32 (TM = 4, T = 64) serves few rows; linear_f32_wide (TM = 8, T = 128), twice the FMAs per
// shared-memory read, big batches (Kernels.linear chooses). Grid: (ceil(out / T), ceil(rows / T)).

// Four consecutive floats of row r of an [n, in] matrix from column k, zeros past its edges. aligned:
// in and k are multiples of 4 and m is 16-byte aligned, so the four are all inside or all past the end.
__device__ __forceinline__ void load4(const float* __restrict__ m, int r, int n, int in, int k, bool aligned, float v[4]) {
    if (aligned) {
        float4 q = (r < n && k < in) ? *reinterpret_cast<const float4*>(m + (size_t)r * in + k) : make_float4(0.f, 0.f, 0.f, 0.f);
        v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
    } else {
#pragma unroll
        for (int j = 0; j < 4; j++) v[j] = (r < n && k + j < in) ? m[(size_t)r * in + k + j] : 0.0f;
    }
}

template <int TM>
__device__ __forceinline__ void linear_f32_tiles(const float* __restrict__ x, const float* __restrict__ w,
                                                 const float* __restrict__ bias, float* __restrict__ y,
                                                 int rows, int in, int out, int act) {
    constexpr int T = 16 * TM, BK = 64 / TM, PATCHES = TM / 4;
    __shared__ __align__(16) float xs[BK][T + 4]; // xs[k][r]; +4 keeps rows 16-byte aligned, shifts banks
    __shared__ __align__(16) float ws[BK][T + 4]; // ws[k][c]
    const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
    const int row0 = blockIdx.y * T, col0 = blockIdx.x * T;
    const int lr = tid / (BK / 4), lk = tid % (BK / 4) * 4; // the tile row and first k this thread fetches
    const bool aligned = in % 4 == 0 && ((size_t)x | (size_t)w) % 16 == 0;
    float acc[TM][TM];
#pragma unroll
    for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < TM; j++) acc[i][j] = 0.0f;

    float xa[4], wa[4];
    load4(x, row0 + lr, rows, in, lk, aligned, xa);
    load4(w, col0 + lr, out, in, lk, aligned, wa);
    for (int k0 = 0; k0 < in; k0 += BK) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            xs[lk + j][lr] = xa[j];
            ws[lk + j][lr] = wa[j];
        }
        __syncthreads();
        if (k0 + BK < in) {
            load4(x, row0 + lr, rows, in, k0 + BK + lk, aligned, xa);
            load4(w, col0 + lr, out, in, k0 + BK + lk, aligned, wa);
        }
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float a[TM], b[TM];
#pragma unroll
            for (int p = 0; p < PATCHES; p++) {
                float4 av = *reinterpret_cast<const float4*>(&xs[k][p * 64 + ty * 4]);
                float4 bv = *reinterpret_cast<const float4*>(&ws[k][p * 64 + tx * 4]);
                a[p * 4] = av.x; a[p * 4 + 1] = av.y; a[p * 4 + 2] = av.z; a[p * 4 + 3] = av.w;
                b[p * 4] = bv.x; b[p * 4 + 1] = bv.y; b[p * 4 + 2] = bv.z; b[p * 4 + 3] = bv.w;
            }
#pragma unroll
            for (int i = 0; i < TM; i++)
#pragma unroll
                for (int j = 0; j < TM; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
    const bool alignedOut = out % 4 == 0 && (size_t)y % 16 == 0;
#pragma unroll
    for (int i = 0; i < TM; i++) {
        int r = row0 + i / 4 * 64 + ty * 4 + i % 4;
        if (r >= rows) continue;
#pragma unroll
        for (int q = 0; q < PATCHES; q++) {
            int c = col0 + q * 64 + tx * 4;
            if (c >= out) continue;
            float v[4];
#pragma unroll
            for (int j = 0; j < 4; j++) {
                float b = (bias != nullptr && c + j < out) ? bias[c + j] : 0.0f;
                v[j] = activate(acc[i][q * 4 + j] + b, act);
            }
            if (alignedOut) { // c is a multiple of 4, so all four are inside
                *reinterpret_cast<float4*>(y + (size_t)r * out + c) = make_float4(v[0], v[1], v[2], v[3]);
            } else {
#pragma unroll
                for (int j = 0; j < 4; j++)
                    if (c + j < out) y[(size_t)r * out + c + j] = v[j];
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(256)
linear_f32(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ bias,
           float* __restrict__ y, int rows, int in, int out, int act) {
    linear_f32_tiles<4>(x, w, bias, y, rows, in, out, act);
}

extern "C" __global__ void __launch_bounds__(256)
linear_f32_wide(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ bias,
                float* __restrict__ y, int rows, int in, int out, int act) {
    linear_f32_tiles<8>(x, w, bias, y, rows, in, out, act);
}

// ---------------------------------------------------------------------------------------------
// linear_bf16_tc / linear_f16_tc: the same function on tensor cores (WMMA 16x16x16, F32 accumulate)
// for half-precision weights. The MMA takes x in the weights' type too, and rounding x to BF16 alone
// moved the XLM-R golden logits by 0.09 (measured on the CPU, TensorCoreNumericsTest). So x enters as
// two parts, hi = round(x) and lo = round(x - hi), and each k step runs two MMAs (W·hi + W·lo): x keeps
// about 16 significant bits, and the sum, bias and activation stay F32. Block: 128 threads (4 warps)
// computing a 32 x 32 tile of y, each warp one 16 x 16 fragment. Grid: (ceil(out / 32), ceil(rows / 32)).
#define TC_TILE 32
#define TC_BK 16

template <typename T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16(v); }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half(v); }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }

template <typename T>
__device__ __forceinline__ void linear_tc(const float* __restrict__ x, const T* __restrict__ w,
                                          const float* __restrict__ bias, float* __restrict__ y,
                                          int rows, int in, int out, int act) {
    using namespace nvcuda;
    // WMMA loads need 32-byte aligned tiles: every fragment offset below is a multiple of 256 bytes
    // (operands) or 64 bytes (the F32 result).
    __shared__ __align__(32) T xs[TC_TILE * TC_BK];        // A, hi part: [32 rows][16 k], row-major
    __shared__ __align__(32) T xl[TC_TILE * TC_BK];        // A, lo part: x - hi, rounded again
    __shared__ __align__(32) T ws[TC_TILE * TC_BK];        // B: [32 cols][16 k] = (k x n) column-major
    __shared__ __align__(32) float cs[TC_TILE * TC_TILE];  // the F32 result tile, row-major
    const int tid = threadIdx.x, warp = tid / 32;
    const int wr = (warp / 2) * 16, wc = (warp % 2) * 16;
    const int row0 = blockIdx.y * TC_TILE, col0 = blockIdx.x * TC_TILE;

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.0f);
    for (int k0 = 0; k0 < in; k0 += TC_BK) {
        for (int i = tid; i < TC_TILE * TC_BK; i += 128) {
            int r = i / TC_BK, k = i % TC_BK, gk = k0 + k;
            int gr = row0 + r, gc = col0 + r;
            float v = (gr < rows && gk < in) ? x[(size_t)gr * in + gk] : 0.0f;
            T hi = from_float<T>(v);
            xs[i] = hi;
            xl[i] = from_float<T>(v - to_float(hi));
            ws[i] = (gc < out && gk < in) ? w[(size_t)gc * in + gk] : from_float<T>(0.0f);
        }
        __syncthreads();
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a, al;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> b;
        wmma::load_matrix_sync(a, xs + wr * TC_BK, TC_BK);
        wmma::load_matrix_sync(al, xl + wr * TC_BK, TC_BK);
        wmma::load_matrix_sync(b, ws + wc * TC_BK, TC_BK);
        wmma::mma_sync(acc, a, b, acc);
        wmma::mma_sync(acc, al, b, acc);
        __syncthreads();
    }
    wmma::store_matrix_sync(cs + wr * TC_TILE + wc, acc, TC_TILE, wmma::mem_row_major);
    __syncthreads();
    for (int i = tid; i < TC_TILE * TC_TILE; i += 128) {
        int r = row0 + i / TC_TILE, c = col0 + i % TC_TILE;
        if (r < rows && c < out) {
            float v = cs[i] + (bias != nullptr ? bias[c] : 0.0f);
            y[(size_t)r * out + c] = activate(v, act);
        }
    }
}

extern "C" __global__ void __launch_bounds__(128)
linear_bf16_tc(const float* __restrict__ x, const __nv_bfloat16* __restrict__ w, const float* __restrict__ bias,
               float* __restrict__ y, int rows, int in, int out, int act) {
    linear_tc<__nv_bfloat16>(x, w, bias, y, rows, in, out, act);
}

extern "C" __global__ void __launch_bounds__(128)
linear_f16_tc(const float* __restrict__ x, const __half* __restrict__ w, const float* __restrict__ bias,
              float* __restrict__ y, int rows, int in, int out, int act) {
    linear_tc<__half>(x, w, bias, y, rows, in, out, act);
}

// ---------------------------------------------------------------------------------------------
// add_layernorm: x[r] += residual[r] (residual may be null), then out[r] = LayerNorm(x[r]) * gamma + beta; out is x
// itself (Backend.addLayerNorm) or another array (RotaryEncoderKernels.addAndNormalize, where x keeps the sum).
// Biased variance, two passes over the row (mean, then squared deviations) as PyTorch.
// Block: 256 threads per row. Grid: rows.
extern "C" __global__ void __launch_bounds__(256)
add_layernorm(float* x, const float* __restrict__ residual, const float* __restrict__ gamma,
              const float* __restrict__ beta, int rows, int dim, float eps, float* out) {
    __shared__ float scratch[32];
    const int r = blockIdx.x;
    if (r >= rows) return; // uniform across the block
    float* xr = x + (size_t)r * dim;
    const float* rr = residual != nullptr ? residual + (size_t)r * dim : nullptr;
    // Each thread only ever touches the columns i = threadIdx.x + n * blockDim.x, so the in-place
    // writes below never race with another thread's reads.
    float s = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float v = xr[i] + (rr != nullptr ? rr[i] : 0.0f);
        xr[i] = v;
        s += v;
    }
    const float mean = block_sum(s, scratch) / dim;
    float q = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float d = xr[i] - mean;
        q += d * d;
    }
    const float inv = 1.0f / sqrtf(block_sum(q, scratch) / dim + eps);
    float* outr = out + (size_t)r * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        outr[i] = (xr[i] - mean) * inv * gamma[i] + beta[i];
    }
}

// ---------------------------------------------------------------------------------------------
// attention: bidirectional multi-head attention over ragged sequences, as Backend.attention.
// qkv: one row of 3 * heads * headDim floats per token (Q, K, V, each head-major); sequence b is
// tokens seqStarts[b] .. seqStarts[b + 1] - 1 and attends to its first keyLengths[b] tokens
// (keyLengths null: all), of those only the ones at most `window` positions away (INT_MAX: all; the host
// checks that every window holds a key). One warp per (token, head) walks the keys once with an online softmax
// (running max and sum), so any length works with no shared-memory limit. headDim <= 256.
// Block: 128 threads (4 warps). Grid: ceil(tokens * heads / 4).
#define ATT_MAX_HEAD_DIM 256
#define ATT_PER_LANE (ATT_MAX_HEAD_DIM / 32)

extern "C" __global__ void __launch_bounds__(128)
attention(const float* __restrict__ qkv, const int* __restrict__ seqStarts, const int* __restrict__ keyLengths,
          int sequences, int heads, int headDim, float scale, int window, float* __restrict__ out) {
    const long long item = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; // uniform per warp
    const int lane = threadIdx.x & 31;
    const int tokens = seqStarts[sequences];
    if (item >= (long long)tokens * heads) return; // whole warps leave together
    const int t = (int)(item / heads), h = (int)(item % heads);
    if (t < seqStarts[0]) return; // rows before the first sequence belong to none: left alone, as on the CPU

    const int lo = sequence_of(seqStarts, sequences, t);
    const int start = seqStarts[lo];
    const int keys = keyLengths != nullptr ? keyLengths[lo] : seqStarts[lo + 1] - start;

    const size_t stride = (size_t)3 * heads * headDim;
    const float* q = qkv + (size_t)t * stride + (size_t)h * headDim;
    const float* k0 = qkv + (size_t)start * stride + (size_t)heads * headDim + (size_t)h * headDim;
    const float* v0 = k0 + (size_t)heads * headDim;

    float qr[ATT_PER_LANE], acc[ATT_PER_LANE];
#pragma unroll
    for (int i = 0; i < ATT_PER_LANE; i++) {
        int d = lane + 32 * i;
        qr[i] = d < headDim ? q[d] : 0.0f;
        acc[i] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    const int position = t - start;
    const int jFrom = (int)max(0LL, (long long)position - window);
    const int jTo = (int)min((long long)keys, (long long)position + window + 1);
    for (int j = jFrom; j < jTo; j++) {
        const float* kj = k0 + (size_t)j * stride;
        float s = 0.0f;
#pragma unroll
        for (int i = 0; i < ATT_PER_LANE; i++) {
            int d = lane + 32 * i;
            if (d < headDim) s = fmaf(qr[i], kj[d], s);
        }
        s = warp_sum(s) * scale;
        const float mNew = fmaxf(m, s);
        const float corr = expf(m - mNew); // 0 on the first key (m = -inf), when l and acc are 0 anyway
        const float p = expf(s - mNew);
        l = l * corr + p;
        const float* vj = v0 + (size_t)j * stride;
#pragma unroll
        for (int i = 0; i < ATT_PER_LANE; i++) {
            int d = lane + 32 * i;
            if (d < headDim) acc[i] = fmaf(p, vj[d], acc[i] * corr);
        }
        m = mNew;
    }
    const float inv = 1.0f / l; // keys >= 1 (checked on the host), so l >= 1
    float* o = out + (size_t)t * heads * headDim + (size_t)h * headDim;
#pragma unroll
    for (int i = 0; i < ATT_PER_LANE; i++) {
        int d = lane + 32 * i;
        if (d < headDim) o[d] = acc[i] * inv;
    }
}

// ---------------------------------------------------------------------------------------------
// attention_tiled: the same function for heads of up to 128 dims, with each key and value read once per
// block of 16 queries instead of once per query (the per-query kernel above spent 36% of a bge-base forward
// pass's GPU time re-reading them: ncu, 2026-12-04, H200). Block: 128 threads (4 warps) for queries
// 16c .. 16c + 15 of sequence b and head h; grid: (ceil(longest sequence / 16), heads, sequences); blocks
// past their sequence's end leave at once. Keys and values go through shared memory 32 at a time: lane j
// scores key j against each of its warp's 4 queries, the warp folds the 32 scores into the running max
// and sum (online softmax, per tile), then each lane adds the tile's weighted values to the dims it owns
// (d = lane, lane + 32, ...).
#define ATT_TILE_MAX_HEAD_DIM 128
#define ATT_TILE_QUERIES 16
#define ATT_TILE_KEYS 32
#define ATT_TILE_DIMS (ATT_TILE_MAX_HEAD_DIM / 32)

extern "C" __global__ void __launch_bounds__(128)
attention_tiled(const float* __restrict__ qkv, const int* __restrict__ seqStarts, const int* __restrict__ keyLengths,
                int sequences, int heads, int headDim, float scale, int window, float* __restrict__ out) {
    __shared__ float qs[ATT_TILE_QUERIES][ATT_TILE_MAX_HEAD_DIM];
    __shared__ float ks[ATT_TILE_KEYS][ATT_TILE_MAX_HEAD_DIM + 1]; // +1: lanes read down a column
    __shared__ float vs[ATT_TILE_KEYS][ATT_TILE_MAX_HEAD_DIM];
    const int b = blockIdx.z, h = blockIdx.y, q0 = blockIdx.x * ATT_TILE_QUERIES;
    const int start = seqStarts[b], length = seqStarts[b + 1] - start;
    if (q0 >= length) return; // uniform across the block
    const int keys = keyLengths != nullptr ? keyLengths[b] : length;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const size_t stride = (size_t)3 * heads * headDim;
    const float* qBase = qkv + (size_t)start * stride + (size_t)h * headDim;
    const float* kBase = qBase + (size_t)heads * headDim;
    const float* vBase = kBase + (size_t)heads * headDim;

    for (int i = threadIdx.x; i < ATT_TILE_QUERIES * headDim; i += blockDim.x) {
        int q = i / headDim, d = i % headDim;
        qs[q][d] = q0 + q < length ? qBase[(size_t)(q0 + q) * stride + d] * scale : 0.0f;
    }
    float m[4], l[4], acc[4][ATT_TILE_DIMS];
#pragma unroll
    for (int q = 0; q < 4; q++) {
        m[q] = -INFINITY;
        l[q] = 0.0f;
#pragma unroll
        for (int i = 0; i < ATT_TILE_DIMS; i++) acc[q][i] = 0.0f;
    }
    // The block's queries see keys [jFrom, jTo): the first one's window start to the last one's window end.
    const int jFrom = (int)max(0LL, (long long)q0 - window);
    const int jTo = (int)min((long long)keys, (long long)q0 + ATT_TILE_QUERIES + window);
    for (int j0 = jFrom; j0 < jTo; j0 += ATT_TILE_KEYS) {
        const int tileKeys = min(ATT_TILE_KEYS, jTo - j0);
        __syncthreads(); // the previous tile is no longer read (and, the first time, qs is written)
        for (int i = threadIdx.x; i < tileKeys * headDim; i += blockDim.x) {
            int j = i / headDim, d = i % headDim;
            size_t at = (size_t)(j0 + j) * stride + d;
            ks[j][d] = kBase[at];
            vs[j][d] = vBase[at];
        }
        __syncthreads();
#pragma unroll
        for (int q = 0; q < 4; q++) {
            const int query = warp * 4 + q;
            float s = -INFINITY;
            const long long distance = (long long)(q0 + query) - (j0 + lane);
            if (lane < tileKeys && distance <= window && -distance <= window) {
                float s0 = 0.0f, s1 = 0.0f;
                int d = 0;
                for (; d + 1 < headDim; d += 2) {
                    s0 = fmaf(qs[query][d], ks[lane][d], s0);
                    s1 = fmaf(qs[query][d + 1], ks[lane][d + 1], s1);
                }
                if (d < headDim) s0 = fmaf(qs[query][d], ks[lane][d], s0);
                s = s0 + s1;
            }
            const float mNew = fmaxf(m[q], warp_max(s));
            // A tile may hold no key of this query's window (mNew = -inf); 0 stands in, so that exp gives 0, not NaN.
            const float mSafe = mNew == -INFINITY ? 0.0f : mNew;
            const float corr = expf(m[q] - mSafe); // 0 while m = -inf, when l and acc are 0 anyway
            const float p = expf(s - mSafe);        // 0 for lanes past the tile or the window
            l[q] = l[q] * corr + warp_sum(p);
#pragma unroll
            for (int i = 0; i < ATT_TILE_DIMS; i++) acc[q][i] *= corr;
            for (int j = 0; j < tileKeys; j++) {
                const float pj = __shfl_sync(0xffffffffu, p, j);
#pragma unroll
                for (int i = 0; i < ATT_TILE_DIMS; i++) {
                    int d = lane + 32 * i;
                    if (d < headDim) acc[q][i] = fmaf(pj, vs[j][d], acc[q][i]);
                }
            }
            m[q] = mNew;
        }
    }
#pragma unroll
    for (int q = 0; q < 4; q++) {
        const int t = q0 + warp * 4 + q;
        if (t >= length) continue;
        const float inv = 1.0f / l[q]; // keys >= 1 (checked on the host), so l >= 1
        float* o = out + (size_t)(start + t) * heads * headDim + (size_t)h * headDim;
#pragma unroll
        for (int i = 0; i < ATT_TILE_DIMS; i++) {
            int d = lane + 32 * i;
            if (d < headDim) o[d] = acc[q][i] * inv;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// disentangled_attention: DeBERTa's attention, as RelativeAttentionKernels.disentangledAttention. One warp per
// (token, head) walks the keys of its sequence with an online softmax, as attention does; the score of key j adds
// q . pk_r (c2p) and k_j . pq_r (p2c), pq and pk the Q and K parts of row r = rows[i - j + center] of positions (laid out
// as qkv's rows). headDim <= 256. Block: 128 threads (4 warps). Grid: ceil(tokens * heads / 4).
extern "C" __global__ void __launch_bounds__(128)
disentangled_attention(const float* __restrict__ qkv, const int* __restrict__ seqStarts, int sequences,
                       const float* __restrict__ positions, const int* __restrict__ rows, int center, int c2p, int p2c,
                       int heads, int headDim, float scale, float* __restrict__ out) {
    const long long item = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; // uniform per warp
    const int lane = threadIdx.x & 31;
    const int tokens = seqStarts[sequences];
    if (item >= (long long)tokens * heads) return;
    const int t = (int)(item / heads), h = (int)(item % heads);
    if (t < seqStarts[0]) return;
    const int lo = sequence_of(seqStarts, sequences, t);
    const int start = seqStarts[lo], keys = seqStarts[lo + 1] - start, i = t - start;
    const size_t stride = (size_t)3 * heads * headDim;
    const size_t qOff = (size_t)h * headDim, kOff = (size_t)(heads + h) * headDim, vOff = (size_t)(2 * heads + h) * headDim;
    const float* q = qkv + (size_t)t * stride + qOff;
    float qr[ATT_PER_LANE], acc[ATT_PER_LANE];
#pragma unroll
    for (int n = 0; n < ATT_PER_LANE; n++) {
        int d = lane + 32 * n;
        qr[n] = d < headDim ? q[d] : 0.0f;
        acc[n] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    for (int j = 0; j < keys; j++) {
        const float* kj = qkv + (size_t)(start + j) * stride + kOff;
        const float* pr = positions + (size_t)rows[i - j + center] * stride;
        float s = 0.0f;
#pragma unroll
        for (int n = 0; n < ATT_PER_LANE; n++) {
            int d = lane + 32 * n;
            if (d < headDim) {
                s = fmaf(qr[n], kj[d], s);
                if (c2p) s = fmaf(qr[n], pr[kOff + d], s);
                if (p2c) s = fmaf(kj[d], pr[qOff + d], s);
            }
        }
        s = warp_sum(s) * scale;
        const float mNew = fmaxf(m, s);
        const float corr = expf(m - mNew);
        const float p = expf(s - mNew);
        l = l * corr + p;
        const float* vj = qkv + (size_t)(start + j) * stride + vOff;
#pragma unroll
        for (int n = 0; n < ATT_PER_LANE; n++) {
            int d = lane + 32 * n;
            if (d < headDim) acc[n] = fmaf(p, vj[d], acc[n] * corr);
        }
        m = mNew;
    }
    const float inv = 1.0f / l;
    float* o = out + (size_t)t * heads * headDim + (size_t)h * headDim;
#pragma unroll
    for (int n = 0; n < ATT_PER_LANE; n++) {
        int d = lane + 32 * n;
        if (d < headDim) o[d] = acc[n] * inv;
    }
}

// ---------------------------------------------------------------------------------------------
// rotary: Q and K of every token rotated in place by its position in its sequence (RoPE, transformers'
// rotate_half pairing: dims i and i + headDim / 2), cos and sin read from [position][headDim / 2] tables.
// One thread per (token, Q or K head, i < headDim / 2). Block: 256 threads. Grid: ceil(those / 256).
extern "C" __global__ void __launch_bounds__(256)
rotary(float* __restrict__ qkv, const int* __restrict__ seqStarts, int sequences, int heads, int headDim,
       const float* __restrict__ cosTable, const float* __restrict__ sinTable) {
    const int half = headDim / 2;
    const long long perToken = 2LL * heads * half;
    const long long item = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (item >= (long long)(seqStarts[sequences] - seqStarts[0]) * perToken) return;
    const int t = seqStarts[0] + (int)(item / perToken);
    const int rest = (int)(item % perToken), h = rest / half, i = rest % half;
    const size_t at = (size_t)(t - seqStarts[sequence_of(seqStarts, sequences, t)]) * half + i;
    float* x = qkv + (size_t)t * 3 * heads * headDim + (size_t)h * headDim;
    const float c = cosTable[at], s = sinTable[at], x1 = x[i], x2 = x[i + half];
    x[i] = x1 * c - x2 * s;
    x[i + half] = x2 * c + x1 * s;
}

// gelu_gate: gated[r][j] = GELU(hidden[r][j]) * hidden[r][width + j], the gate of a GeGLU feed-forward.
// One thread per gated unit. Block: 256 threads. Grid: ceil(rows * width / 256).
extern "C" __global__ void __launch_bounds__(256)
gelu_gate(const float* __restrict__ hidden, float* __restrict__ gated, int rows, int width) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)rows * width) return;
    const float* h = hidden + (i / width) * 2 * width;
    const int j = (int)(i % width);
    gated[i] = activate(h[j], ACT_GELU) * h[width + j];
}

// ---------------------------------------------------------------------------------------------
// max_sim: scores[k] = sum_i max_j query_i . docs_j over document k's rows docOffsets[k] ..
// docOffsets[k + 1] - 1; a document without rows scores 0. Warp w takes query tokens w, w + 8, ...;
// its lanes split the document's rows. Partial sums are added in warp order: deterministic.
// Block: 256 threads per document. Grid: documents.
extern "C" __global__ void __launch_bounds__(256)
max_sim(const float* __restrict__ query, int queryTokens, const float* __restrict__ docs,
        const int* __restrict__ docOffsets, int documents, int dim, float* __restrict__ scores) {
    __shared__ float partial[8];
    const int k = blockIdx.x;
    if (k >= documents) return; // uniform across the block
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    const int first = docOffsets[k], n = docOffsets[k + 1] - first;
    float sum = 0.0f;
    for (int i = warp; i < queryTokens; i += warps) {
        const float* q = query + (size_t)i * dim;
        float best = -INFINITY;
        for (int j = lane; j < n; j += 32) {
            const float* d = docs + (size_t)(first + j) * dim;
            float s = 0.0f;
            for (int c = 0; c < dim; c++) s = fmaf(q[c], d[c], s);
            best = fmaxf(best, s);
        }
        sum += warp_max(best); // the same in every lane
    }
    if (lane == 0) partial[warp] = sum;
    __syncthreads();
    if (threadIdx.x == 0) {
        float total = 0.0f;
        for (int w = 0; w < warps; w++) total += partial[w];
        scores[k] = n == 0 ? 0.0f : total;
    }
}
