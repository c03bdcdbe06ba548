// Runs the real kernels (src/main/cuda/kernels.cu, compiled here for the CPU through cuda_emulation.h) when
// the fake libcuda is built with -DFAKE_EMULATE: its cuLaunchKernel hands each launch to emulate_launch with
// the kernel's name, geometry and kernelParams, exactly as CudaBackend passed them.
#include "cuda_emulation.h"

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "../../../main/cuda/kernels.cu"

namespace {

template <class T>
T arg(void** params, int i) {
    T v;
    std::memcpy(&v, params[i], sizeof v);
    return v;
}

void run(emu_dim3 grid, emu_dim3 block, const std::function<void()>& kernel) {
    const unsigned n = block.x * block.y * block.z;
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                std::barrier<> blockBarrier(n);
                std::vector<std::unique_ptr<std::barrier<>>> warpBarriers;
                for (unsigned w = 0; w * 32 < n; w++) {
                    warpBarriers.push_back(std::make_unique<std::barrier<>>(std::min(32u, n - w * 32)));
                }
                std::vector<float> exchange(warpBarriers.size() * 32);
                std::vector<std::thread> threads;
                threads.reserve(n);
                for (unsigned t = 0; t < n; t++) {
                    threads.emplace_back([&, t] {
                        threadIdx = {t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
                        blockIdx = {bx, by, bz};
                        blockDim = block;
                        emu = {&blockBarrier, warpBarriers[t / 32].get(), &exchange[(t / 32) * 32]};
                        kernel();
                        // A thread that has finished (or returned early) no longer holds up the others.
                        emu.warp->arrive_and_drop();
                        blockBarrier.arrive_and_drop();
                    });
                }
                for (std::thread& t : threads) t.join();
            }
}

} // namespace

extern "C" const char* emulation_error(void) { return emu_error; }

// 0, or a CUresult: 1 (CUDA_ERROR_INVALID_VALUE) for an unknown kernel, 716 (CUDA_ERROR_MISALIGNED_ADDRESS)
// when a kernel broke a rule the emulation checks (emulation_error() says which).
extern "C" int emulate_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                              unsigned bz, void** p) {
    emu_dim3 grid{gx, gy, gz}, block{bx, by, bz};
    const std::string k = name;
    if (k == "linear_f32") {
        run(grid, block, [&] {
            linear_f32(arg<const float*>(p, 0), arg<const float*>(p, 1), arg<const float*>(p, 2), arg<float*>(p, 3),
                       arg<int>(p, 4), arg<int>(p, 5), arg<int>(p, 6), arg<int>(p, 7));
        });
    } else if (k == "linear_f32_wide") {
        run(grid, block, [&] {
            linear_f32_wide(arg<const float*>(p, 0), arg<const float*>(p, 1), arg<const float*>(p, 2), arg<float*>(p, 3),
                            arg<int>(p, 4), arg<int>(p, 5), arg<int>(p, 6), arg<int>(p, 7));
        });
    } else if (k == "linear_bf16_tc") {
        run(grid, block, [&] {
            linear_bf16_tc(arg<const float*>(p, 0), arg<const __nv_bfloat16*>(p, 1), arg<const float*>(p, 2),
                           arg<float*>(p, 3), arg<int>(p, 4), arg<int>(p, 5), arg<int>(p, 6), arg<int>(p, 7));
        });
    } else if (k == "linear_f16_tc") {
        run(grid, block, [&] {
            linear_f16_tc(arg<const float*>(p, 0), arg<const __half*>(p, 1), arg<const float*>(p, 2), arg<float*>(p, 3),
                          arg<int>(p, 4), arg<int>(p, 5), arg<int>(p, 6), arg<int>(p, 7));
        });
    } else if (k == "add_layernorm") {
        run(grid, block, [&] {
            add_layernorm(arg<float*>(p, 0), arg<const float*>(p, 1), arg<const float*>(p, 2), arg<const float*>(p, 3),
                          arg<int>(p, 4), arg<int>(p, 5), arg<float>(p, 6), arg<float*>(p, 7));
        });
    } else if (k == "attention") {
        run(grid, block, [&] {
            attention(arg<const float*>(p, 0), arg<const int*>(p, 1), arg<const int*>(p, 2), arg<int>(p, 3),
                      arg<int>(p, 4), arg<int>(p, 5), arg<float>(p, 6), arg<int>(p, 7), arg<float*>(p, 8));
        });
    } else if (k == "attention_tiled") {
        run(grid, block, [&] {
            attention_tiled(arg<const float*>(p, 0), arg<const int*>(p, 1), arg<const int*>(p, 2), arg<int>(p, 3),
                            arg<int>(p, 4), arg<int>(p, 5), arg<float>(p, 6), arg<int>(p, 7), arg<float*>(p, 8));
        });
    } else if (k == "disentangled_attention") {
        run(grid, block, [&] {
            disentangled_attention(arg<const float*>(p, 0), arg<const int*>(p, 1), arg<int>(p, 2), arg<const float*>(p, 3),
                                   arg<const int*>(p, 4), arg<int>(p, 5), arg<int>(p, 6), arg<int>(p, 7), arg<int>(p, 8),
                                   arg<int>(p, 9), arg<float>(p, 10), arg<float*>(p, 11));
        });
    } else if (k == "rotary") {
        run(grid, block, [&] {
            rotary(arg<float*>(p, 0), arg<const int*>(p, 1), arg<int>(p, 2), arg<int>(p, 3), arg<int>(p, 4),
                   arg<const float*>(p, 5), arg<const float*>(p, 6));
        });
    } else if (k == "gelu_gate") {
        run(grid, block, [&] {
            gelu_gate(arg<const float*>(p, 0), arg<float*>(p, 1), arg<int>(p, 2), arg<int>(p, 3));
        });
    } else if (k == "max_sim") {
        run(grid, block, [&] {
            max_sim(arg<const float*>(p, 0), arg<int>(p, 1), arg<const float*>(p, 2), arg<const int*>(p, 3),
                    arg<int>(p, 4), arg<int>(p, 5), arg<float*>(p, 6));
        });
    } else {
        std::snprintf(emu_error, sizeof emu_error, "no emulation for kernel %s", name);
        return 1;
    }
    return emu_error[0] ? 716 : 0;
}
