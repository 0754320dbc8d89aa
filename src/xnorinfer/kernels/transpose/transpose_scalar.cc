// Portable tile transpose: the contract's loop.
#include "xnorinfer/kernels/transpose/transpose.h"

namespace xnorinfer {

void transpose_tile_ukernel__scalar(const float* x, int64_t x_stride, int64_t rows, int64_t cols,
                                    float* y, int64_t y_stride) {
  for (int64_t j = 0; j < cols; ++j) {
    for (int64_t i = 0; i < rows; ++i) y[j * y_stride + i] = x[i * x_stride + j];
  }
}

}  // namespace xnorinfer
