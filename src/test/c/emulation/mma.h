// Stands in for CUDA's mma.h in the CPU emulation (see cuda_emulation.h).
#pragma once
#include "cuda_emulation.h"
