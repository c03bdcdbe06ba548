// rerank4j's CUDA kernels, compiled to one PTX file by tools/build-ptx and loaded by
// dev.rerank4j.backend.cuda.Kernels. Each kernel mirrors one method of dev.rerank4j.backend.Backend;
// the Java javadoc there is the contract, CudaBackend says how each kernel is launched.
//
// These are written to be obviously right rather than fast: every global read and write is
// bounds-checked, tails are zero-filled in shared memory, and reductions run in a fixed order.
// Activations are row-major F32; weights are [out, in] row-major (F32, BF16 or F16).

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

// Must match dev.rerank4j.backend.Activation's ordinals (CudaBackend passes ordinal()).
#define ACT_NONE 0
#define ACT_GELU 1
#define ACT_TANH 2

__device__ __forceinline__ float activate(float v, int act) {
    if (act == ACT_GELU) return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f)); // HF "gelu", erf form
    if (act == ACT_TANH) return tanhf(v);
    return v;
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
// linear_f32: y[r, c] = act(sum_k x[r, k] * w[c, k] + bias[c]); bias may be null.
// Block: 256 threads computing a 64 x 64 tile of y, each thread a 4 x 4 patch.
// Grid: (ceil(out / 64), ceil(rows / 64)).
#define F32_TILE 64
#define F32_BK 16

extern "C" __global__ void __launch_bounds__(256)
linear_f32(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ bias,
           float* __restrict__ y, int rows, int in, int out, int act) {
    __shared__ float xs[F32_BK][F32_TILE + 1]; // xs[k][r]: +1 spreads the transposed stores over banks
    __shared__ float ws[F32_BK][F32_TILE + 1]; // ws[k][c]
    const int tid = threadIdx.x;
    const int tr = tid / 16, tc = tid % 16;
    const int row0 = blockIdx.y * F32_TILE, col0 = blockIdx.x * F32_TILE;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < in; k0 += F32_BK) {
        // 64 rows x 16 k of each operand; consecutive threads read consecutive k (both are k-contiguous).
        for (int i = tid; i < F32_TILE * F32_BK; i += 256) {
            int r = i / F32_BK, k = i % F32_BK, gk = k0 + k;
            int gr = row0 + r, gc = col0 + r;
            xs[k][r] = (gr < rows && gk < in) ? x[(size_t)gr * in + gk] : 0.0f;
            ws[k][r] = (gc < out && gk < in) ? w[(size_t)gc * in + gk] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < F32_BK; k++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                a[i] = xs[k][tr * 4 + i];
                b[i] = ws[k][tc * 4 + i];
            }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int r = row0 + tr * 4 + i;
        if (r >= rows) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int c = col0 + tc * 4 + j;
            if (c >= out) continue;
            float v = acc[i][j] + (bias != nullptr ? bias[c] : 0.0f);
            y[(size_t)r * out + c] = activate(v, act);
        }
    }
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
// add_layernorm: x[r] = LayerNorm(x[r] + residual[r]) * gamma + beta, in place; residual may be null.
// Biased variance, two passes over the row (mean, then squared deviations) as PyTorch.
// Block: 256 threads per row. Grid: rows.
extern "C" __global__ void __launch_bounds__(256)
add_layernorm(float* __restrict__ x, const float* __restrict__ residual, const float* __restrict__ gamma,
              const float* __restrict__ beta, int rows, int dim, float eps) {
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
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        xr[i] = (xr[i] - mean) * inv * gamma[i] + beta[i];
    }
}

// ---------------------------------------------------------------------------------------------
// attention: bidirectional multi-head attention over ragged sequences, as Backend.attention.
// qkv: one row of 3 * heads * headDim floats per token (Q, K, V, each head-major); sequence b is
// tokens seqStarts[b] .. seqStarts[b + 1] - 1 and attends to its first keyLengths[b] tokens
// (keyLengths null: all). One warp per (token, head) walks the keys once with an online softmax
// (running max and sum), so any length works with no shared-memory limit. headDim <= 256.
// Block: 128 threads (4 warps). Grid: ceil(tokens * heads / 4).
#define ATT_MAX_HEAD_DIM 256
#define ATT_PER_LANE (ATT_MAX_HEAD_DIM / 32)

extern "C" __global__ void __launch_bounds__(128)
attention(const float* __restrict__ qkv, const int* __restrict__ seqStarts, const int* __restrict__ keyLengths,
          int sequences, int heads, int headDim, float scale, float* __restrict__ out) {
    const long long item = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; // uniform per warp
    const int lane = threadIdx.x & 31;
    const int tokens = seqStarts[sequences];
    if (item >= (long long)tokens * heads) return; // whole warps leave together
    const int t = (int)(item / heads), h = (int)(item % heads);
    if (t < seqStarts[0]) return; // rows before the first sequence belong to none: left alone, as on the CPU

    // The sequence holding token t: the last b with seqStarts[b] <= t. Empty sequences share their
    // start with the next one, and taking the last such b skips them.
    int lo = 0, hi = sequences - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) >> 1;
        if (seqStarts[mid] <= t) lo = mid; else hi = mid - 1;
    }
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
    for (int j = 0; j < keys; j++) {
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
