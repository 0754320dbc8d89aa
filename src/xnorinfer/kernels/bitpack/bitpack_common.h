// Scalar pieces shared by the bit-packing kernels. They have internal linkage (anonymous
// namespace) so the linker can never pick an AVX-compiled copy for the scalar path.
#pragma once

#include <cmath>
#include <cstdint>

namespace xnorinfer {
namespace {

// Mean of |x| over n floats, summed in index order (the rounding every variant must match).
inline float abs_mean_in_order(const float* x, int64_t n) {
  float sum = 0.0f;
  for (int64_t c = 0; c < n; ++c) sum += std::fabs(x[c]);
  return sum / static_cast<float>(n);
}

}  // namespace
}  // namespace xnorinfer
