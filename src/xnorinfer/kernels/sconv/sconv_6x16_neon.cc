// NEON direct float convolution: 6 pixels x 16 output channels in 24 q accumulators (4 vectors
// of 4 channels per pixel), reading each pixel's window in place (no im2col copy).
//
// Inner step (one window float k of 6 pixels x 16 channels = 24 FMLA .4s = 96 FMAs), as GCC 12
// -O3 emits it: LDR x of the offset (post-incremented), 2 LDP q (the weight row), 6 LDR s (one
// value per pixel, register offset) and 24 FMLA by element (lane 0 of the pixel's value, so the
// broadcast costs nothing), plus an address add, CMP and B.NE: 36 instructions. 24 accumulators
// + 4 weights + the value fit the 32 v registers: no spills (checked in the 6x4 tile's loop).
//
// Rounding is the contract's: one fused multiply-add per window float in the window's order
// (FMLA never rounds the product), then bias as a separate FADD, then relu as a compare-and-clear
// (FCMLT #0 + BIC: NaN and -0 stay, which FMAX would not keep for -0). A narrower last block
// (channels < 16) runs on fewer vectors, and its last partial vector stores only its lanes.
#include <arm_neon.h>

#include "xnorinfer/kernels/neon_lanes.h"
#include "xnorinfer/kernels/sconv/sconv.h"
#include "xnorinfer/kernels/tile_rows.h"

// GCC's pre-allocation scheduler hoists a step's 6 pixel loads ahead of their FMLAs: with the 24
// accumulators and 4 weights that is 34 live vectors, and it spilled 3 accumulators in the
// 6-pixel loop. Without it the step allocates into the 32 registers with no spill (the
// post-allocation scheduler still interleaves the loads).
#pragma GCC optimize("no-schedule-insns")

namespace xnorinfer {
namespace {

constexpr int kNr = 4;  // q registers (4 output channels each) per pixel
constexpr int kNb = 4 * kNr;

template <int MR, int NR>
void tile(int64_t window, const int64_t* offsets, const float* const* pixels, const float* weights,
          float* const* out, int64_t out_offset, int64_t channels, const float* bias, bool relu) {
  float32x4_t acc[MR][NR];
#pragma GCC unroll 6
  for (int p = 0; p < MR; ++p) {
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) acc[p][j] = vdupq_n_f32(0.0f);
  }
  const float* ap[MR];
#pragma GCC unroll 6
  for (int p = 0; p < MR; ++p) ap[p] = pixels[p];
  for (int64_t k = 0; k < window; ++k, weights += kNb) {
    float32x4_t wv[NR];
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) wv[j] = vld1q_f32(weights + 4 * j);
    const int64_t offset = offsets[k];
#pragma GCC unroll 6
    for (int p = 0; p < MR; ++p) {
      const float a = ap[p][offset];
#pragma GCC unroll 4
      for (int j = 0; j < NR; ++j) acc[p][j] = vfmaq_n_f32(acc[p][j], wv[j], a);
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < NR; ++j) {
    const int64_t left = channels - 4 * j;  // > 0: NR vectors cover channels (tile_rows.h)
    float32x4_t b = vdupq_n_f32(0.0f);
    if (bias) b = neon::load_lanes(bias + 4 * j, left);
#pragma GCC unroll 6
    for (int p = 0; p < MR; ++p) {
      float32x4_t v = acc[p][j];
      if (bias) v = vaddq_f32(v, b);
      // Clear the lanes below 0: NaN and -0 compare false and stay, as the contract says.
      if (relu) v = neon::relu(v);
      neon::store_lanes(out[p] + out_offset + 4 * j, v, left);
    }
  }
}

}  // namespace

void sconv_ukernel_6x16__neon(int64_t mr, int64_t window, const int64_t* offsets,
                              const float* const* pixels, const float* weights, float* const* out,
                              int64_t out_offset, int64_t channels, const float* bias, bool relu) {
  with_tile_rows<6>(mr, [&](auto rows) {
    with_channel_vectors<kNr>(channels, 4, [&](auto vectors) {
      tile<decltype(rows)::value, decltype(vectors)::value>(window, offsets, pixels, weights, out,
                                                            out_offset, channels, bias, relu);
    });
  });
}

}  // namespace xnorinfer
