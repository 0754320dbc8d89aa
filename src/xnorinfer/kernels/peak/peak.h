// Throughput ceilings of one core, measured with data in registers: the "100%" that benchmarks
// compare kernels against. XOR + popcount + add for the binary kernels; fused multiply-add for
// the float ones (the first layer, float convs, onnxruntime's fp32 baseline).
#pragma once

#include <cstdint>

#include "xnorinfer/cpu/isa.h"

namespace xnorinfer {

// Runs `iterations` steps of a register-resident loop; returns binary multiply-accumulates
// done (XORed bits). Time it from the caller.
int64_t xor_popcount_loop(Isa isa, int64_t iterations);

int64_t xor_popcount_loop__avx2(int64_t iterations);
int64_t xor_popcount_loop__avx512vpopcnt(int64_t iterations);
#ifdef XI_HAVE_NEON
int64_t xor_popcount_loop__neon(int64_t iterations);
#endif

// Runs `iterations` steps of a register-resident FMA loop; returns float multiply-adds done.
int64_t fma_loop(Isa isa, int64_t iterations);

int64_t fma_loop__avx2(int64_t iterations);
int64_t fma_loop__avx512f(int64_t iterations);
#ifdef XI_HAVE_NEON
int64_t fma_loop__neon(int64_t iterations);
#endif

}  // namespace xnorinfer
