// AVX2 pooling: 8 channels per step. Max: the contract's select as VMAXPS(v, m) (v > m ? v : m,
// operand order kept) with a NaN v then blended in, as the AVX-512 kernel does.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "xnorinfer/kernels/pool/pool.h"
#include "xnorinfer/kernels/pool/pool_common.h"

namespace xnorinfer {

void max_rows_ukernel__avx2(const float* const* rows, int64_t count, int64_t n, int64_t groups,
                            int64_t step, float* y) {
  if (count == 0) return std::fill(y, y + groups * n, -INFINITY);
  for (int64_t g = 0; g < groups; ++g, y += n) {
    const int64_t at = g * step;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      __m256 m = _mm256_loadu_ps(rows[0] + at + i);  // the fold's first step (pool.h)
      for (int64_t r = 1; r < count; ++r) {
        const __m256 v = _mm256_loadu_ps(rows[r] + at + i);
        m = _mm256_blendv_ps(_mm256_max_ps(v, m), v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
      }
      _mm256_storeu_ps(y + i, m);
    }
    for (; i < n; ++i) y[i] = max_fold(rows, count, at + i);
  }
}

void average_rows_ukernel__avx2(const float* const* rows, int64_t count, int64_t n, int64_t groups,
                                int64_t step, float divisor, float* y) {
  const __m256 d = _mm256_set1_ps(divisor);
  for (int64_t g = 0; g < groups; ++g, y += n) {
    const int64_t at = g * step;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      __m256 sum = _mm256_setzero_ps();
      for (int64_t r = 0; r < count; ++r)
        sum = _mm256_add_ps(sum, _mm256_loadu_ps(rows[r] + at + i));
      _mm256_storeu_ps(y + i, _mm256_div_ps(sum, d));
    }
    for (; i < n; ++i) y[i] = average_fold(rows, count, at + i, divisor);
  }
}

}  // namespace xnorinfer
