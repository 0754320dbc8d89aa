// AVX2 max pooling: 8 channels per step, the NaN-winning select as compare + blend.
#include <immintrin.h>

#include <cmath>

#include "xnorinfer/kernels/pool/pool.h"
#include "xnorinfer/kernels/pool/pool_common.h"

namespace xnorinfer {

void max_rows_ukernel__avx2(const float* const* rows, int64_t count, int64_t n, float* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 m = _mm256_set1_ps(-INFINITY);
    for (int64_t r = 0; r < count; ++r) {
      const __m256 v = _mm256_loadu_ps(rows[r] + i);
      const __m256 take =
          _mm256_or_ps(_mm256_cmp_ps(v, m, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
      m = _mm256_blendv_ps(m, v, take);
    }
    _mm256_storeu_ps(y + i, m);
  }
  for (; i < n; ++i) y[i] = max_fold(rows, count, i);
}

}  // namespace xnorinfer
