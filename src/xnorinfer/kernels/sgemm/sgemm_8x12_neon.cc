// NEON float GEMM: 8 rows x 12 columns (24 q-register accumulators), the classic aarch64 tile.
// One fused multiply-add (FMLA by element) per k step, in increasing k, so it rounds exactly
// like every other sgemm variant.
// A arrives unpacked (rows a_stride apart), and 8 rows' A values per k step would not fit next
// to 24 accumulators + 3 B vectors (GCC hoists the loads and spills). So the 8-row block's next
// kKc k steps are packed once, k-major (4x4 transposes), into a small stack buffer, and every
// column panel then runs the textbook loop: 2 A + 3 B loads, 24 FMLAs. Across chunks the sums
// pass through c (stored and reloaded exactly, which changes no rounding). Column tails compute
// the zero-padded panel in full and store only the columns that exist; row tails a narrower
// instantiation.
#include <arm_neon.h>

#include "xnorinfer/kernels/neon_lanes.h"
#include "xnorinfer/kernels/sgemm/sgemm.h"
#include "xnorinfer/kernels/tile_rows.h"

namespace xnorinfer {
namespace {

constexpr int kMr = 8;
constexpr int kNr = 12;
constexpr int64_t kKc = 256;  // k steps packed at a time: 8 KB of stack

// The 4x4 block r[row][k] as t[k][row].
inline void transpose4(const float32x4_t r[4], float32x4_t t[4]) {
  const float32x4_t t01lo = vtrn1q_f32(r[0], r[1]), t01hi = vtrn2q_f32(r[0], r[1]);
  const float32x4_t t23lo = vtrn1q_f32(r[2], r[3]), t23hi = vtrn2q_f32(r[2], r[3]);
  const auto pairs = [](float32x4_t v) { return vreinterpretq_f64_f32(v); };
  t[0] = vreinterpretq_f32_f64(vtrn1q_f64(pairs(t01lo), pairs(t23lo)));
  t[1] = vreinterpretq_f32_f64(vtrn1q_f64(pairs(t01hi), pairs(t23hi)));
  t[2] = vreinterpretq_f32_f64(vtrn2q_f64(pairs(t01lo), pairs(t23lo)));
  t[3] = vreinterpretq_f32_f64(vtrn2q_f64(pairs(t01hi), pairs(t23hi)));
}

// Rows [0, rows) x k steps [0, kc) of a as kc groups of 8 floats; rows past `rows` are 0.
void pack_a(const float* a, int64_t a_stride, int rows, int64_t kc, float* packed) {
  int64_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    for (int h = 0; h < kMr; h += 4) {
      float32x4_t r[4], t[4];
      for (int i = 0; i < 4; ++i) {
        r[i] = h + i < rows ? vld1q_f32(a + (h + i) * a_stride + p) : vdupq_n_f32(0.0f);
      }
      transpose4(r, t);
      for (int l = 0; l < 4; ++l) vst1q_f32(packed + (p + l) * kMr + h, t[l]);
    }
  }
  for (; p < kc; ++p) {
    for (int i = 0; i < kMr; ++i) packed[p * kMr + i] = i < rows ? a[i * a_stride + p] : 0.0f;
  }
}

// Row I's three accumulators += its A value (lane I % 4 of a0 or a1) times b0..b2, then row I+1.
template <int I, int ROWS>
inline void rows_step(float32x4_t (*acc)[3], float32x4_t a0, float32x4_t a1, float32x4_t b0,
                      float32x4_t b1, float32x4_t b2) {
  if constexpr (I < ROWS) {
    const float32x4_t av = I < 4 ? a0 : a1;
    acc[I][0] = vfmaq_laneq_f32(acc[I][0], b0, av, I % 4);
    acc[I][1] = vfmaq_laneq_f32(acc[I][1], b1, av, I % 4);
    acc[I][2] = vfmaq_laneq_f32(acc[I][2], b2, av, I % 4);
    rows_step<I + 1, ROWS>(acc, a0, a1, b0, b1, b2);
  }
}

// The epilogue of sgemm.h, applied by the tile of the last k chunk.
struct Epilogue {
  const float* bias;  // of the tile's columns, or nullptr
  bool relu;
};

// c's ROWS x cols block (+)= packed A (kc groups of 8) times kc rows of the panel; starts from 0
// when `first`, else from the sums c holds; then the epilogue when given (`last`).
template <int ROWS>
void tile(int64_t kc, const float* packed, const float* panel, float* c, int64_t c_stride, int cols,
          bool first, const Epilogue* last) {
  float32x4_t acc[ROWS][3];  // constant indices only (unrolled loops): kept in registers
#pragma GCC unroll 8
  for (int i = 0; i < ROWS; ++i) {
    const float* ci = c + i * c_stride;
    float row[kNr] = {};
    if (!first && cols < kNr) {  // nothing past column n is read
      for (int j = 0; j < cols; ++j) row[j] = ci[j];
    }
    const float* from = first || cols < kNr ? row : ci;
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) acc[i][v] = vld1q_f32(from + 4 * v);
  }
  for (int64_t q = 0; q < kc; ++q) {
    const float32x4_t a0 = vld1q_f32(packed + q * kMr);
    const float32x4_t a1 = ROWS > 4 ? vld1q_f32(packed + q * kMr + 4) : a0;
    const float* bp = panel + q * kNr;
    rows_step<0, ROWS>(acc, a0, a1, vld1q_f32(bp), vld1q_f32(bp + 4), vld1q_f32(bp + 8));
  }
  if (last && (last->bias || last->relu)) {
    float bias[kNr] = {};
    if (last->bias) {
      for (int j = 0; j < cols; ++j) bias[j] = last->bias[j];
    }
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; ++i) {
#pragma GCC unroll 3
      for (int v = 0; v < 3; ++v) {
        if (last->bias) acc[i][v] = vaddq_f32(acc[i][v], vld1q_f32(bias + 4 * v));
        if (last->relu) acc[i][v] = neon::relu(acc[i][v]);
      }
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < ROWS; ++i) {
    float* ci = c + i * c_stride;
    if (cols == kNr) {
#pragma GCC unroll 3
      for (int v = 0; v < 3; ++v) vst1q_f32(ci + 4 * v, acc[i][v]);
    } else {  // nothing past column n is written
      float row[kNr];
#pragma GCC unroll 3
      for (int v = 0; v < 3; ++v) vst1q_f32(row + 4 * v, acc[i][v]);
      for (int j = 0; j < cols; ++j) ci[j] = row[j];
    }
  }
}

}  // namespace

void sgemm_ukernel_8x12__neon(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_stride,
                              const float* b_panels, float* c, int64_t c_stride, const float* bias,
                              bool relu) {
  alignas(16) float packed[kKc * kMr];
  for (int64_t i = 0; i < m; i += kMr) {
    const int rows = static_cast<int>(m - i < kMr ? m - i : kMr);
    int64_t p0 = 0;
    do {  // at least once: k == 0 still writes the zero sums
      const int64_t kc = k - p0 < kKc ? k - p0 : kKc;
      pack_a(a + i * a_stride + p0, a_stride, rows, kc, packed);
      for (int64_t j = 0; j < n; j += kNr) {
        const int cols = static_cast<int>(n - j < kNr ? n - j : kNr);
        const float* panel = b_panels + (j / kNr) * k * kNr + p0 * kNr;
        float* cij = c + i * c_stride + j;
        const Epilogue epilogue{bias ? bias + j : nullptr, relu};
        const Epilogue* last = p0 + kc == k ? &epilogue : nullptr;
        if (rows == kMr) {
          tile<kMr>(kc, packed, panel, cij, c_stride, cols, p0 == 0, last);
        } else {
          with_tile_rows<kMr - 1>(rows, [&](auto r) {
            tile<decltype(r)::value>(kc, packed, panel, cij, c_stride, cols, p0 == 0, last);
          });
        }
      }
      p0 += kc;
    } while (p0 < k);
  }
}

}  // namespace xnorinfer
