// AVX-512 pooling: 16 channels per step, masked tail. The max's select is VMAXPS(v, m)
// (v > m ? v : m, operand order kept: a NaN m or a tie keeps m, bits unchanged) with a NaN v
// then moved in: one compare into a mask per step, where the select written out takes two and
// an OR (and the mask ops were this kernel's limit).
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "xnorinfer/kernels/avx512_lanes.h"
#include "xnorinfer/kernels/pool/pool.h"

namespace xnorinfer {

void max_rows_ukernel__avx512f(const float* const* rows, int64_t count, int64_t n, int64_t groups,
                               int64_t step, float* y) {
  if (count == 0) return std::fill(y, y + groups * n, -INFINITY);
  for (int64_t g = 0; g < groups; ++g, y += n) {
    const int64_t at = g * step;
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 valid = first_lanes(n - i);
      __m512 m = _mm512_maskz_loadu_ps(valid, rows[0] + at + i);  // the fold's first step
      for (int64_t r = 1; r < count; ++r) {
        const __m512 v = _mm512_maskz_loadu_ps(valid, rows[r] + at + i);
        m = _mm512_mask_mov_ps(_mm512_max_ps(v, m), _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
      }
      _mm512_mask_storeu_ps(y + i, valid, m);
    }
  }
}

void average_rows_ukernel__avx512f(const float* const* rows, int64_t count, int64_t n,
                                   int64_t groups, int64_t step, float divisor, float* y) {
  const __m512 d = _mm512_set1_ps(divisor);
  for (int64_t g = 0; g < groups; ++g, y += n) {
    const int64_t at = g * step;
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 valid = first_lanes(n - i);
      __m512 sum = _mm512_setzero_ps();
      for (int64_t r = 0; r < count; ++r)
        sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(valid, rows[r] + at + i));
      _mm512_mask_storeu_ps(y + i, valid, _mm512_div_ps(sum, d));
    }
  }
}

}  // namespace xnorinfer
