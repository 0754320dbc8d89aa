// AVX-512 float GEMM: 6 rows x 64 columns (24 zmm accumulators: one broadcast feeds four FMAs),
// one fused multiply-add per k step, so it rounds exactly like every other sgemm variant.
// Column tails use masked stores (the packed panel is zero there); row tails a narrower
// instantiation.
#include <immintrin.h>

#include "xnorinfer/kernels/sgemm/sgemm.h"

namespace xnorinfer {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 64;
constexpr int kVectors = kNr / 16;

template <int ROWS>
void tile(int64_t k, const float* a, int64_t a_stride, const float* panel, float* c,
          int64_t c_stride, const __mmask16* masks) {
  __m512 acc[ROWS][kVectors];
  for (int i = 0; i < ROWS; ++i)
    for (int v = 0; v < kVectors; ++v) acc[i][v] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; ++p) {
    __m512 b[kVectors];
    for (int v = 0; v < kVectors; ++v) b[v] = _mm512_load_ps(panel + p * kNr + 16 * v);
    for (int i = 0; i < ROWS; ++i) {
      const __m512 av = _mm512_set1_ps(a[i * a_stride + p]);
      for (int v = 0; v < kVectors; ++v) acc[i][v] = _mm512_fmadd_ps(av, b[v], acc[i][v]);
    }
  }
  for (int i = 0; i < ROWS; ++i)
    for (int v = 0; v < kVectors; ++v) _mm512_mask_storeu_ps(c + i * c_stride + 16 * v, masks[v], acc[i][v]);
}

__mmask16 lanes(int64_t n) { return n >= 16 ? 0xFFFF : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1); }

}  // namespace

void sgemm_ukernel_6x64__avx512vpopcnt(int64_t m, int64_t n, int64_t k, const float* a,
                                       int64_t a_stride, const float* b_panels, float* c,
                                       int64_t c_stride) {
  for (int64_t j = 0; j < n; j += kNr) {
    __mmask16 masks[kVectors];
    for (int v = 0; v < kVectors; ++v) masks[v] = lanes(n - j - 16 * v);
    const float* panel = b_panels + (j / kNr) * k * kNr;
    int64_t i = 0;
    for (; i + kMr <= m; i += kMr) {
      tile<kMr>(k, a + i * a_stride, a_stride, panel, c + i * c_stride + j, c_stride, masks);
    }
    const float* ai = a + i * a_stride;
    float* ci = c + i * c_stride + j;
    switch (m - i) {
      case 5: tile<5>(k, ai, a_stride, panel, ci, c_stride, masks); break;
      case 4: tile<4>(k, ai, a_stride, panel, ci, c_stride, masks); break;
      case 3: tile<3>(k, ai, a_stride, panel, ci, c_stride, masks); break;
      case 2: tile<2>(k, ai, a_stride, panel, ci, c_stride, masks); break;
      case 1: tile<1>(k, ai, a_stride, panel, ci, c_stride, masks); break;
      default: break;
    }
  }
}

}  // namespace xnorinfer
