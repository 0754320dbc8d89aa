// Interleaving kernels: a few planes of floats into pixels, the NCHW -> NHWC transpose of an
// image with up to 4 channels (an RGB network input), which a tiled transpose does 12 bytes at
// a time.
//
// Contract for every kernel in interleave.inc, for 1 <= planes <= kMaxInterleavedPlanes,
// j0 <= j < j1 and c < planes:
//   y[j * planes + c] = x[c * cols + j]
// A copy, so every variant gives the same bits.
#pragma once

#include <cstdint>

namespace xnorinfer {

constexpr int64_t kMaxInterleavedPlanes = 4;

using InterleaveFn = void (*)(const float* x, int64_t planes, int64_t cols, int64_t j0, int64_t j1,
                              float* y);

#define XI_INTERLEAVE(fn, isa) void fn(const float*, int64_t, int64_t, int64_t, int64_t, float*);
#include "xnorinfer/kernels/interleave/interleave.inc"
#undef XI_INTERLEAVE

}  // namespace xnorinfer
