// Tile transpose kernels: one tile of up to kTransposeTile x kTransposeTile floats of a row-major
// matrix into its transposed place, the step of a tiled transpose (the Transpose op's NCHW <->
// NHWC of many channels).
//
// Contract for every kernel in transpose.inc, for i < rows, j < cols (1 <= rows, cols <=
// kTransposeTile):
//   y[j * y_stride + i] = x[i * x_stride + j]
// A copy, so every variant gives the same bits.
#pragma once

#include <cstdint>

namespace xnorinfer {

constexpr int64_t kTransposeTile = 16;

using TransposeTileFn = void (*)(const float* x, int64_t x_stride, int64_t rows, int64_t cols,
                                 float* y, int64_t y_stride);

#define XI_TRANSPOSE(fn, isa) void fn(const float*, int64_t, int64_t, int64_t, float*, int64_t);
#include "xnorinfer/kernels/transpose/transpose.inc"
#undef XI_TRANSPOSE

}  // namespace xnorinfer
