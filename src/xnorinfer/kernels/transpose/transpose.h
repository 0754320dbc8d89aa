// Tile transpose kernels: one tile of up to kTransposeTile x kTransposeTile floats of a row-major
// matrix into its transposed place, the step of a tiled transpose (the Transpose op's NCHW <->
// NHWC of many channels).
//
// Contract for every kernel in transpose.inc, for i < rows, j < cols (1 <= rows, cols <=
// kTransposeTile):
//   y[j * y_stride + i] = x[i * x_stride + j]
// A copy, so every variant gives the same bits.
#pragma once

#include <algorithm>
#include <cstdint>

namespace xnorinfer {

constexpr int64_t kTransposeTile = 16;

using TransposeTileFn = void (*)(const float* x, int64_t x_stride, int64_t rows, int64_t cols,
                                 float* y, int64_t y_stride);

#define XI_TRANSPOSE(fn, isa) void fn(const float*, int64_t, int64_t, int64_t, float*, int64_t);
#include "xnorinfer/kernels/transpose/transpose.inc"
#undef XI_TRANSPOSE

// The same contract for any rows and cols: tile by tile with `tile` (a kernel above), a row of
// tiles at a time.
inline void transpose_matrix(TransposeTileFn tile, const float* x, int64_t x_stride, int64_t rows,
                             int64_t cols, float* y, int64_t y_stride) {
  for (int64_t i0 = 0; i0 < rows; i0 += kTransposeTile) {
    for (int64_t j0 = 0; j0 < cols; j0 += kTransposeTile) {
      tile(x + i0 * x_stride + j0, x_stride, std::min(kTransposeTile, rows - i0),
           std::min(kTransposeTile, cols - j0), y + j0 * y_stride + i0, y_stride);
    }
  }
}

}  // namespace xnorinfer
