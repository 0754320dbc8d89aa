// Scalar pieces shared by the bit-packing kernels. They have internal linkage (anonymous
// namespace) so the linker can never pick an AVX-compiled copy for the scalar path.
#pragma once

#include <cmath>
#include <cstdint>

namespace xnorinfer {
namespace {

// Channel c's value before the sign test: x[c], or x[c] * scale[c] + bias[c] (no FMA: the
// build compiles with -ffp-contract=off).
inline float packed_value(const float* x, const float* scale, const float* bias, int64_t c) {
  return scale ? x[c] * scale[c] + bias[c] : x[c];
}

// What channel c's sign test sees: its value plus its offset, if any.
inline float tested_value(const float* x, const float* scale, const float* bias,
                          const float* offset, int64_t c) {
  const float v = packed_value(x, scale, bias, c);
  return offset ? v + offset[c] : v;
}

// Mean of |value| over n channels, summed in index order (the rounding every variant must
// match).
inline float abs_mean_in_order(const float* x, const float* scale, const float* bias, int64_t n) {
  float sum = 0.0f;
  for (int64_t c = 0; c < n; ++c) sum += std::fabs(packed_value(x, scale, bias, c));
  return sum / static_cast<float>(n);
}

}  // namespace
}  // namespace xnorinfer
