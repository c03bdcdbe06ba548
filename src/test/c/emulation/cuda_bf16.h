// Stands in for CUDA's cuda_bf16.h in the CPU emulation (see cuda_emulation.h).
#pragma once
#include "cuda_emulation.h"
