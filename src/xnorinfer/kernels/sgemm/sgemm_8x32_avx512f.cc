// AVX-512 float GEMM: 8 rows x 32 columns (16 zmm accumulators), one fused multiply-add per
// k step, so it rounds exactly like every other sgemm variant. Column tails
// use masked stores (the packed panel is zero there); row tails a narrower instantiation.
#include <immintrin.h>

#include "xnorinfer/kernels/avx512_lanes.h"
#include "xnorinfer/kernels/sgemm/sgemm.h"
#include "xnorinfer/kernels/tile_rows.h"

namespace xnorinfer {
namespace {

constexpr int kMr = 8;
constexpr int kNr = 32;

template <int ROWS>
void tile(int64_t k, const float* a, int64_t a_stride, const float* panel, float* c,
          int64_t c_stride, __mmask16 mask0, __mmask16 mask1) {
  __m512 acc[ROWS][2];
  for (int i = 0; i < ROWS; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; ++p) {
    const __m512 b0 = _mm512_load_ps(panel + p * kNr);
    const __m512 b1 = _mm512_load_ps(panel + p * kNr + 16);
    for (int i = 0; i < ROWS; ++i) {
      const __m512 av = _mm512_set1_ps(a[i * a_stride + p]);
      acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
    }
  }
  for (int i = 0; i < ROWS; ++i) {
    _mm512_mask_storeu_ps(c + i * c_stride, mask0, acc[i][0]);
    _mm512_mask_storeu_ps(c + i * c_stride + 16, mask1, acc[i][1]);
  }
}

}  // namespace

void sgemm_ukernel_8x32__avx512f(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_stride,
                                 const float* b_panels, float* c, int64_t c_stride) {
  for (int64_t j = 0; j < n; j += kNr) {
    const __mmask16 mask0 = first_lanes(n - j), mask1 = first_lanes(n - j - 16);
    const float* panel = b_panels + (j / kNr) * k * kNr;
    int64_t i = 0;
    for (; i + kMr <= m; i += kMr) {
      tile<kMr>(k, a + i * a_stride, a_stride, panel, c + i * c_stride + j, c_stride, mask0, mask1);
    }
    if (i == m) continue;
    const float* ai = a + i * a_stride;
    float* ci = c + i * c_stride + j;
    with_tile_rows<kMr - 1>(m - i, [&](auto rows) {
      tile<decltype(rows)::value>(k, ai, a_stride, panel, ci, c_stride, mask0, mask1);
    });
  }
}

}  // namespace xnorinfer
