// AVX-512 max pooling: 16 channels per step, masked tail; the NaN-winning select as two
// compares into a mask and a masked move.
#include <immintrin.h>

#include <cmath>

#include "xnorinfer/kernels/avx512_lanes.h"
#include "xnorinfer/kernels/pool/pool.h"

namespace xnorinfer {

void max_rows_ukernel__avx512f(const float* const* rows, int64_t count, int64_t n, float* y) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 valid = first_lanes(n - i);
    __m512 m = _mm512_set1_ps(-INFINITY);
    for (int64_t r = 0; r < count; ++r) {
      const __m512 v = _mm512_maskz_loadu_ps(valid, rows[r] + i);
      const __mmask16 take =
          _mm512_cmp_ps_mask(v, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
      m = _mm512_mask_mov_ps(m, take, v);
    }
    _mm512_mask_storeu_ps(y + i, valid, m);
  }
}

}  // namespace xnorinfer
