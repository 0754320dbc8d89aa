// AVX-512 pooling: 16 channels per step, masked tail. The max's select is VMAXPS(v, m)
// (v > m ? v : m, operand order kept: a NaN m or a tie keeps m, bits unchanged) with a NaN v
// then moved in: one compare into a mask per step, where the select written out takes two and
// an OR (and the mask ops were this kernel's limit). The max folds 64 channels at a time, four
// independent chains: one at a time, each step waited for the last (the stem's fused pool took
// a fifth longer).
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "xnorinfer/kernels/avx512_lanes.h"
#include "xnorinfer/kernels/pool/pool.h"

namespace xnorinfer {

namespace {

// One step of the fold: m = (v > m || v != v) ? v : m.
[[gnu::always_inline]] inline __m512 max_step(__m512 m, __m512 v) {
  return _mm512_mask_mov_ps(_mm512_max_ps(v, m), _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
}

// The fold of `count` rows at float `at` of each row, `kVectors` vectors of lanes side by side:
// independent chains in one loop body, so their latencies overlap.
template <int kVectors>
[[gnu::always_inline]] inline void fold_vectors(const float* const* rows, int64_t count, int64_t at,
                                                __mmask16 last, float* y) {
  __mmask16 valid[kVectors];
  __m512 m[kVectors];
  for (int v = 0; v < kVectors; ++v) {
    valid[v] = v == kVectors - 1 ? last : __mmask16(0xFFFF);
    m[v] = _mm512_maskz_loadu_ps(valid[v], rows[0] + at + 16 * v);  // the fold's first step
  }
  for (int64_t r = 1; r < count; ++r) {
    for (int v = 0; v < kVectors; ++v)
      m[v] = max_step(m[v], _mm512_maskz_loadu_ps(valid[v], rows[r] + at + 16 * v));
  }
  for (int v = 0; v < kVectors; ++v) _mm512_mask_storeu_ps(y + 16 * v, valid[v], m[v]);
}

}  // namespace

void max_rows_ukernel__avx512f(const float* const* rows, int64_t count, int64_t n, int64_t groups,
                               int64_t step, float* y) {
  if (count == 0) return std::fill(y, y + groups * n, -INFINITY);
  for (int64_t g = 0; g < groups; ++g, y += n) {
    const int64_t at = g * step;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) fold_vectors<4>(rows, count, at + i, 0xFFFF, y + i);
    for (; i < n; i += 16) fold_vectors<1>(rows, count, at + i, first_lanes(n - i), y + i);
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
