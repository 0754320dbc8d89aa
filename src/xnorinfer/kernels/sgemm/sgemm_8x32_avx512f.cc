// AVX-512 float GEMM: 8 rows x 32 columns (16 zmm accumulators), one fused multiply-add per
// k step, so it rounds exactly like every other sgemm variant. Column tails
// use masked stores (the packed panel is zero there); row tails a narrower instantiation.
// A few rows (a Dense layer at a small batch) stream their weights from memory: there a tile
// spans up to 4 panels, so that 4 sequential streams are in flight instead of one, and
// prefetches ahead (a 4096->1000 layer at batch 1, weights in L3: 19 GB/s with one stream and
// no prefetch, 27 GB/s so).
#include <immintrin.h>

#include <algorithm>

#include "xnorinfer/kernels/avx512_lanes.h"
#include "xnorinfer/kernels/sgemm/sgemm.h"
#include "xnorinfer/kernels/tile_rows.h"

namespace xnorinfer {
namespace {

constexpr int kMr = 8;
constexpr int kNr = 32;
// How far ahead (k steps: 4 KB of a panel) a few-row tile prefetches its panels.
constexpr int64_t kPrefetchSteps = 32;

// The epilogue of sgemm.h: bias (or nullptr) and relu.
struct Epilogue {
  const float* bias;
  bool relu;
};

// ROWS rows x PANELS panels of 32 columns; panel q of the tile starts at panels + q * panel_size
// and covers columns [32q, 32q + 32) of c (and of the bias), masked to `cols` columns in all.
// `next_share`: `next_lines` cache lines from there to prefetch into L2 (a share of the next
// panel), one per k step from the first.
template <int ROWS, int PANELS>
void tile(int64_t k, const float* a, int64_t a_stride, const float* panels, int64_t panel_size,
          float* c, int64_t c_stride, int64_t cols, Epilogue e, const char* next_share = nullptr,
          int64_t next_lines = 0) {
  __m512 acc[ROWS][PANELS][2];
  for (int i = 0; i < ROWS; ++i)
    for (int q = 0; q < PANELS; ++q) acc[i][q][0] = acc[i][q][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; ++p) {
    __m512 b[PANELS][2];
    for (int q = 0; q < PANELS; ++q) {
      b[q][0] = _mm512_load_ps(panels + q * panel_size + p * kNr);
      b[q][1] = _mm512_load_ps(panels + q * panel_size + p * kNr + 16);
      if constexpr (ROWS < 4) {  // prefetches past the panel's end are harmless hints
        const char* ahead =
            reinterpret_cast<const char*>(panels + q * panel_size + (p + kPrefetchSteps) * kNr);
        _mm_prefetch(ahead, _MM_HINT_T0);
        _mm_prefetch(ahead + 64, _MM_HINT_T0);
      }
    }
    if (p < next_lines) _mm_prefetch(next_share + 64 * p, _MM_HINT_T1);
    for (int i = 0; i < ROWS; ++i) {
      const __m512 av = _mm512_set1_ps(a[i * a_stride + p]);
      for (int q = 0; q < PANELS; ++q) {
        acc[i][q][0] = _mm512_fmadd_ps(av, b[q][0], acc[i][q][0]);
        acc[i][q][1] = _mm512_fmadd_ps(av, b[q][1], acc[i][q][1]);
      }
    }
  }
  for (int q = 0; q < PANELS; ++q) {
    for (int h = 0; h < 2; ++h) {
      const int64_t col = kNr * q + 16 * h;
      const __mmask16 mask = first_lanes(cols - col);
      const __m512 bias = e.bias ? _mm512_maskz_loadu_ps(mask, e.bias + col) : _mm512_setzero_ps();
      for (int i = 0; i < ROWS; ++i) {
        __m512 v = e.bias ? _mm512_add_ps(acc[i][q][h], bias) : acc[i][q][h];
        // max with 0 as the first operand returns v when v is NaN or -0, as the contract says.
        if (e.relu) v = _mm512_max_ps(_mm512_setzero_ps(), v);
        _mm512_mask_storeu_ps(c + i * c_stride + col, mask, v);
      }
    }
  }
}

// The epilogue of the columns from j on.
Epilogue shifted(Epilogue e, int64_t j) { return {e.bias ? e.bias + j : nullptr, e.relu}; }

// Rows left below kMr, over every panel: as many panels per tile as 16 accumulators hold,
// at most 4.
template <int ROWS>
void few_rows(int64_t n, int64_t k, const float* a, int64_t a_stride, const float* b_panels,
              float* c, int64_t c_stride, Epilogue e) {
  constexpr int kPanels = std::min(4, 8 / ROWS);
  const int64_t panel_size = k * kNr;
  int64_t j = 0;
  for (; j + kPanels * kNr <= n; j += kPanels * kNr) {
    tile<ROWS, kPanels>(k, a, a_stride, b_panels + (j / kNr) * panel_size, panel_size, c + j,
                        c_stride, n - j, shifted(e, j));
  }
  for (; j < n; j += kNr) {
    tile<ROWS, 1>(k, a, a_stride, b_panels + (j / kNr) * panel_size, panel_size, c + j, c_stride,
                  n - j, shifted(e, j));
  }
}

}  // namespace

void sgemm_ukernel_8x32__avx512f(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_stride,
                                 const float* b_panels, float* c, int64_t c_stride,
                                 const float* bias, bool relu) {
  const Epilogue e{bias, relu};
  const int64_t panel_size = k * kNr;
  int64_t i = 0;
  if (m >= kMr) {
    // While a panel's row tiles run, each prefetches its share of the next panel into L2: with
    // the weights in memory, a panel's first tile otherwise waits for them (32 KB for k = 256).
    const int64_t tiles = m / kMr;
    const int64_t share = (panel_size * int64_t{sizeof(float)} / 64 + tiles - 1) / tiles;  // lines
    for (int64_t j = 0; j < n; j += kNr) {
      const float* panel = b_panels + (j / kNr) * panel_size;
      const char* next = j + kNr < n ? reinterpret_cast<const char*>(panel + panel_size) : nullptr;
      for (i = 0; i + kMr <= m; i += kMr) {
        const char* next_share = next ? next + (i / kMr) * share * 64 : nullptr;
        tile<kMr, 1>(k, a + i * a_stride, a_stride, panel, panel_size, c + i * c_stride + j,
                     c_stride, n - j, shifted(e, j), next_share, next ? std::min(share, k) : 0);
      }
    }
  }
  if (i == m) return;
  with_tile_rows<kMr - 1>(m - i, [&](auto rows) {
    few_rows<decltype(rows)::value>(n, k, a + i * a_stride, a_stride, b_panels, c + i * c_stride,
                                    c_stride, e);
  });
}

}  // namespace xnorinfer
