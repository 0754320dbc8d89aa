// NEON dot-product (Armv8.2 DotProd) direct int8 convolution: 6 pixels x 16 output channels in
// 24 q accumulators (4 vectors of 4 channels per pixel), reading each pixel's window in place
// from the quantized image. Built with -march=armv8.2-a+dotprod and picked only where the CPU
// has it (CpuFeature::kNeonDotprod); elsewhere (Cortex-A53/A72) the registry runs the scalar one.
//
// SDOT multiplies signed by signed bytes, the contract's activations are unsigned: each
// activation byte gets its top bit flipped (a ^ 0x80 = a - 128 as int8), so the dot products sum
// (a - 128) * w, and the epilogue adds back 128 * (the channel's weight sum), summed once per
// call by an SDOT of the weight panel against a vector of ones. All of it is int32 arithmetic
// wrapping modulo 2^32, so (acc + 128 * wsum - correction) equals the contract's exact
// sum - correction whenever that fits in int32, as the contract guarantees.
//
// Inner step (16 window bytes of 6 pixels x 16 channels = 96 SDOT by element = 1536 MACs), as
// GCC 12 -O3 emits it: 1 MOVI (the 0x80 mask), 6 LDR q (a pixel's 16 bytes, 4 groups of 4) + 6
// EOR (the flip), 16 LDR q (the 4 groups' weight rows) and 96 SDOT .4s by element (lane l of the
// pixel's vector, so no broadcast), plus 2 address adds, CMP and B.NE: 129 instructions, 1.34 per
// SDOT, 0.084 per MAC. A row's last (row_bytes % 16) / 4 groups take one 32-bit load and DUP per
// pixel and SDOT by lane 0. The weight sums, after the main loop, cost 1 LDR q + 1 SDOT per group
// and 4 channels: 1/6 of the main loop's SDOTs at 6 pixels.
// 24 accumulators + 6 pixel vectors + one weight vector (the mask is dead once the EORs are done)
// fit the 32 v registers: no spills (checked in every tile's loop).
//
// The epilogue is the contract's: SCVTF, then FMUL by the multiplier and a separate FADD of the
// bias (never FMLA), then relu as a compare-and-clear (FCMLT #0 + BIC: NaN and -0 stay). A
// narrower last block (channels < 16) runs on fewer vectors, and its partial vector loads and
// stores only its lanes.
#include <arm_neon.h>

#include <cstring>

#include "xnorinfer/kernels/neon_lanes.h"
#include "xnorinfer/kernels/qconv/qconv.h"
#include "xnorinfer/kernels/tile_rows.h"

// As in sconv_6x16_neon.cc: the pre-allocation scheduler would hoist loads ahead of their SDOTs
// and push the live vectors past 32.
#pragma GCC optimize("no-schedule-insns")

namespace xnorinfer {
namespace {

constexpr int kNr = 4;  // q registers (4 output channels each) per pixel
constexpr int kNb = 4 * kNr;
constexpr int64_t kGroupBytes = 4 * kNb;  // one 4-byte group's weights for the kNb channels

// 0x80 in every byte, made where it is used: hoisted out of the loop (as GCC does with a plain
// vdupq_n_u8), it would be a 33rd live vector next to the 24 accumulators, 6 pixel vectors and a
// weight vector, and GCC spilled an accumulator. The volatile MOVI stays in the loop, where it
// is live only until the 6 EORs, before the SDOTs need their weight vectors.
inline uint8x16_t flip_mask() {
  uint8x16_t mask;
  __asm__ volatile("movi %0.16b, #0x80" : "=w"(mask));
  return mask;
}

// One 4-byte group (lane L of each pixel's vector) times its NR weight vectors. A weight vector
// is loaded just before its 6 SDOTs, so one is live at a time.
template <int L, int MR, int NR>
inline void group(int32x4_t (&acc)[MR][NR], const int8x16_t (&av)[MR], const int8_t* w) {
#pragma GCC unroll 4
  for (int j = 0; j < NR; ++j) {
    const int8x16_t wv = vld1q_s8(w + 16 * j);
#pragma GCC unroll 6
    for (int p = 0; p < MR; ++p) acc[p][j] = vdotq_laneq_s32(acc[p][j], wv, av[p], L);
  }
}

template <int MR, int NR>
void tile(int64_t rows, int64_t row_stride, int64_t row_bytes, const uint8_t* const* pixels,
          const int8_t* weights, const QconvOutput& output, float* const* out, int64_t out_offset,
          int64_t channels) {
  int32x4_t acc[MR][NR];
#pragma GCC unroll 6
  for (int p = 0; p < MR; ++p) {
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) acc[p][j] = vdupq_n_s32(0);
  }
  const int8_t* w = weights;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* ap[MR];
#pragma GCC unroll 6
    for (int p = 0; p < MR; ++p) ap[p] = pixels[p] + r * row_stride;
    int64_t k = 0;
    for (; k + 16 <= row_bytes; k += 16, w += 4 * kGroupBytes) {
      const uint8x16_t flip = flip_mask();
      int8x16_t av[MR];
#pragma GCC unroll 6
      for (int p = 0; p < MR; ++p) av[p] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(ap[p] + k), flip));
      group<0>(acc, av, w);
      group<1>(acc, av, w + kGroupBytes);
      group<2>(acc, av, w + 2 * kGroupBytes);
      group<3>(acc, av, w + 3 * kGroupBytes);
    }
    for (; k < row_bytes; k += 4, w += kGroupBytes) {
      const uint8x16_t flip = flip_mask();
      int8x16_t av[MR];
#pragma GCC unroll 6
      for (int p = 0; p < MR; ++p) {
        int32_t v;
        std::memcpy(&v, ap[p] + k, sizeof(v));  // unaligned: window rows start at any byte
        av[p] = vreinterpretq_s8_u8(veorq_u8(vreinterpretq_u8_s32(vdupq_n_s32(v)), flip));
      }
      group<0>(acc, av, w);
    }
  }

  // The weight sums, for the 128 * wsum the flipped activations leave out (summed after the
  // main loop, so that they are not live across it next to the 24 accumulators).
  int32x4_t wsum[NR];
#pragma GCC unroll 4
  for (int j = 0; j < NR; ++j) wsum[j] = vdupq_n_s32(0);
  const int8x16_t ones = vdupq_n_s8(1);
  const int64_t groups = rows * (row_bytes / 4);
  for (int64_t g = 0; g < groups; ++g) {
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) {
      wsum[j] = vdotq_s32(wsum[j], vld1q_s8(weights + g * kGroupBytes + 16 * j), ones);
    }
  }

#pragma GCC unroll 4
  for (int j = 0; j < NR; ++j) {
    const int64_t left = channels - 4 * j;  // > 0: NR vectors cover channels (tile_rows.h)
    const int32x4_t correction = neon::load_lanes(output.correction + 4 * j, left);
    const float32x4_t multiplier = neon::load_lanes(output.multiplier + 4 * j, left);
    const float32x4_t bias = neon::load_lanes(output.bias + 4 * j, left);
    // 128 * wsum - correction, modulo 2^32 like the accumulators.
    const int32x4_t offset = vsubq_s32(vshlq_n_s32(wsum[j], 7), correction);
#pragma GCC unroll 6
    for (int p = 0; p < MR; ++p) {
      const float32x4_t sum = vcvtq_f32_s32(vaddq_s32(acc[p][j], offset));
      float32x4_t v = vaddq_f32(vmulq_f32(sum, multiplier), bias);
      // Clear the lanes below 0: NaN and -0 compare false and stay, as the contract says.
      if (output.relu) v = neon::relu(v);
      neon::store_lanes(out[p] + out_offset + 4 * j, v, left);
    }
  }
}

}  // namespace

void qconv_ukernel_6x16__neondot(int64_t mr, int64_t rows, int64_t row_stride, int64_t row_bytes,
                                 const uint8_t* const* pixels, const int8_t* weights,
                                 const QconvOutput& output, float* const* out, int64_t out_offset,
                                 int64_t channels) {
  with_tile_rows<6>(mr, [&](auto tile_rows) {
    with_channel_vectors<kNr>(channels, 4, [&](auto vectors) {
      tile<decltype(tile_rows)::value, decltype(vectors)::value>(
          rows, row_stride, row_bytes, pixels, weights, output, out, out_offset, channels);
    });
  });
}

}  // namespace xnorinfer
