// NEON pooling. Max: 16 channels per step (4 vectors, so each row pointer is loaded once per 16
// channels), then 4, then one. The contract's NaN-winning select is done as compares + BSL, not
// FMAX/FMAXNM: FMAX returns a quieted or default NaN and +0 for max(-0, +0) in either order,
// FMAXNM drops NaNs; only compare + select keeps the last NaN's bits and the first zero.
#include <arm_neon.h>

#include <cmath>

#include "xnorinfer/kernels/pool/pool.h"
#include "xnorinfer/kernels/pool/pool_common.h"

namespace xnorinfer {
namespace {

// m = (v > m || v != v) ? v : m, lane by lane.
inline float32x4_t fold(float32x4_t m, float32x4_t v) {
  const uint32x4_t take = vorrq_u32(vcgtq_f32(v, m), vmvnq_u32(vceqq_f32(v, v)));
  return vbslq_f32(take, v, m);
}

}  // namespace

void max_rows_ukernel__neon(const float* const* rows, int64_t count, int64_t n, int64_t groups,
                            int64_t step, float* y) {
  const float32x4_t minus_inf = vdupq_n_f32(-INFINITY);
  for (int64_t g = 0; g < groups; ++g, y += n) {
    const int64_t at = g * step;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      float32x4_t m0 = minus_inf, m1 = minus_inf, m2 = minus_inf, m3 = minus_inf;
      for (int64_t r = 0; r < count; ++r) {
        const float* row = rows[r] + at + i;
        m0 = fold(m0, vld1q_f32(row));
        m1 = fold(m1, vld1q_f32(row + 4));
        m2 = fold(m2, vld1q_f32(row + 8));
        m3 = fold(m3, vld1q_f32(row + 12));
      }
      vst1q_f32(y + i, m0);
      vst1q_f32(y + i + 4, m1);
      vst1q_f32(y + i + 8, m2);
      vst1q_f32(y + i + 12, m3);
    }
    for (; i + 4 <= n; i += 4) {
      float32x4_t m = minus_inf;
      for (int64_t r = 0; r < count; ++r) m = fold(m, vld1q_f32(rows[r] + at + i));
      vst1q_f32(y + i, m);
    }
    for (; i < n; ++i) y[i] = max_fold(rows, count, at + i);
  }
}

// Mean: 4 channels per step (FDIV is the IEEE division, as the contract's).
void average_rows_ukernel__neon(const float* const* rows, int64_t count, int64_t n, int64_t groups,
                                int64_t step, float divisor, float* y) {
  const float32x4_t d = vdupq_n_f32(divisor);
  for (int64_t g = 0; g < groups; ++g, y += n) {
    const int64_t at = g * step;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      float32x4_t sum = vdupq_n_f32(0.0f);
      for (int64_t r = 0; r < count; ++r) sum = vaddq_f32(sum, vld1q_f32(rows[r] + at + i));
      vst1q_f32(y + i, vdivq_f32(sum, d));
    }
    for (; i < n; ++i) y[i] = average_fold(rows, count, at + i, divisor);
  }
}

}  // namespace xnorinfer
