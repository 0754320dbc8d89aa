// Scalar pieces shared by the pooling kernels. Internal linkage (anonymous namespace), so the
// linker can never pick a copy compiled for a wider ISA on the scalar path.
#pragma once

#include <cmath>
#include <cstdint>

namespace xnorinfer {
namespace {

// Float `at` of the window's max, by the contract's fold (pool.h).
inline float max_fold(const float* const* rows, int64_t count, int64_t at) {
  float m = -INFINITY;
  for (int64_t r = 0; r < count; ++r) {
    const float v = rows[r][at];
    m = (v > m) | (v != v) ? v : m;
  }
  return m;
}

// Float `at` of the window's mean, by the contract's sum (pool.h).
inline float average_fold(const float* const* rows, int64_t count, int64_t at, float divisor) {
  float sum = 0.0f;
  for (int64_t r = 0; r < count; ++r) sum += rows[r][at];
  return sum / divisor;
}

}  // namespace
}  // namespace xnorinfer
