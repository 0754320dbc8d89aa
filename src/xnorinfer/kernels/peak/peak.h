// The XOR + popcount + add throughput ceiling of one core, measured with data in registers:
// the "100%" that benchmarks compare the binary kernels against.
#pragma once

#include <cstdint>

#include "xnorinfer/cpu/isa.h"

namespace xnorinfer {

// Runs `iterations` steps of a register-resident loop; returns binary multiply-accumulates
// done (XORed bits). Time it from the caller.
int64_t xor_popcount_loop(Isa isa, int64_t iterations);

int64_t xor_popcount_loop__avx2(int64_t iterations);
int64_t xor_popcount_loop__avx512vpopcnt(int64_t iterations);

}  // namespace xnorinfer
