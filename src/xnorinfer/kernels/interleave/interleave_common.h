// The contract's loop, for the scalar kernel and the vector kernels' last columns. Internal
// linkage (anonymous namespace), so the linker can never pick a copy compiled for a wider ISA
// on the scalar path.
#pragma once

#include <cstdint>

namespace xnorinfer {
namespace {

// The plane count fixed at compile time, so that each pixel's stores are one block.
template <int kPlanes>
inline void interleave_columns(const float* x, int64_t cols, int64_t j0, int64_t j1, float* y) {
  for (int64_t j = j0; j < j1; ++j) {
    for (int c = 0; c < kPlanes; ++c) y[j * kPlanes + c] = x[c * cols + j];
  }
}

inline void interleave_columns(const float* x, int64_t planes, int64_t cols, int64_t j0, int64_t j1,
                               float* y) {
  switch (planes) {
    case 1:
      return interleave_columns<1>(x, cols, j0, j1, y);
    case 2:
      return interleave_columns<2>(x, cols, j0, j1, y);
    case 3:
      return interleave_columns<3>(x, cols, j0, j1, y);
    default:
      return interleave_columns<4>(x, cols, j0, j1, y);
  }
}

}  // namespace
}  // namespace xnorinfer
