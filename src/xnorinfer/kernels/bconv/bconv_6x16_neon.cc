// NEON binary convolution: 6 pixels x 16 output channels, 32-bit lanes (the AArch64 way of
// Larq Compute Engine and daBNN: EOR, CNT, UADALP).
//
// Tile: a weight row (lane k of 16 channels, 64 bytes) sits in 4 q registers of 4 channels;
// each pixel's 32-bit lane is broadcast (LD1R .4s), EORed with the 4, CNT'd per byte and
// pairwise-added into u16 accumulators (UADALP .8h: two u16 lanes per channel). 24
// accumulators + 4 weights + a broadcast (+ its mask) and temporaries: the 32 v registers,
// no spills (checked in the generated code of every tile height, plain and masked).
//
// Inner step (one 32-bit lane of 6 pixels x 16 channels = 3072 binary MACs = 48 x 64), as GCC
// 12 -O3 emits it:
//   vector ALU  24 EOR + 24 CNT + 24 UADALP = 72                      1.50 per 64 MACs
//   loads       6 LD1R + 2 LDP q (the weight row) = 8                 0.17
//   scalar      6 address adds, step and weight pointer, cmp + b = 10 0.21
//   total       90                                                    1.88 per 64 MACs
// Larq's 8x4x2 aarch64 kernel (4 pixels x 8 channels, 64-bit broadcasts, hand-written asm):
// 16 EOR + 16 CNT + 12 ADDP + 4 UADALP = 48 vector ops, 4 LD1R + 4 LDR q, 3 loop ops per
// 2048 MACs: the same 1.50 vector ops per 64 MACs (EOR, CNT and one merge per 128 bits is the
// floor), 0.25 loads, ~1.84 in all. Its ADDP tree keeps one accumulator per pixel and needs
// 16 temporaries; here each UADALP feeds its own accumulator, so the registers hold 6 pixels
// and the vector pipes, the bottleneck, do the same work per MAC with fewer loads beside it;
// the address adds (LD1R has no register-offset form, post-incremented pointers ended up on
// the stack) go to the integer pipes.
// The masked twin adds one AND per vector (2.0 vector ops per 64 MACs) and an LD1R per pixel.
//
// Overflow: a CNT byte is <= 8 and a u16 lane sums two per step, so <= 16 per step: after
// 4095 steps a lane holds <= 65520. Every 4095 steps (over any taps x lanes) the u16 lanes
// are widened (UADALP .4s) into u32 totals in memory, so counts are exact at any size; the
// last widening gives one u32 per channel, in channel order, as a channel's 32 bits are
// exactly two u16 lanes.
//
// Float epilogue in NEON straight from the registers: SCVTF, FMUL then FADD (never FMLA; the
// build passes -ffp-contract=off), residual add, relu as a compare-and-clear (FMAX would turn
// -0 into +0), and the sum's sign bits from an FCMLT mask.
#include <arm_neon.h>

#include <algorithm>

#include "xnorinfer/kernels/bconv/bconv.h"
#include "xnorinfer/kernels/neon_lanes.h"
#include "xnorinfer/kernels/tile_rows.h"

// GCC's pre-allocation scheduler hoists the 24 EORs of a step ahead of their CNTs and spills
// accumulators to the stack (6 of 24 at 6 pixels, even 2 at 4); without it the step allocates
// into the 32 registers with no spill (the post-allocation scheduler still runs).
#pragma GCC optimize("no-schedule-insns")

namespace xnorinfer {
namespace {

constexpr int kNv = 4;  // q registers (4 channels each) per pixel
constexpr int kNb = 4 * kNv;
// Steps (one 32-bit lane of every pixel) before a u16 lane could overflow: 16 per step.
constexpr int64_t kFlushSteps = 65535 / 16;

// The float output from the per-channel counts (bconv.h): dot = products - 2 * count, then
// float(dot) * scale + bias, residual, relu and the sum's sign bits. A block is 16 channels:
// it sets and clears its own bits of the word, and the block that starts a word clears it.
template <int MR>
[[gnu::always_inline]] inline void store_float(const uint32x4_t (&counts)[MR][kNv],
                                               const BconvFloatOutput& f) {
  // Copied to locals: the float stores could alias `f` as far as the compiler knows.
  const bool relu = f.relu, with_residual = f.residual != nullptr;
  const float* const sum_threshold = f.sum_threshold;
  const int64_t channels = std::min<int64_t>(f.channels, kNb), out_offset = f.out_offset;
  const int full = static_cast<int>(channels / 4);
  const uint32x4_t bit_of_lane = {1, 2, 4, 8};
#pragma GCC unroll 8
  for (int p = 0; p < MR; ++p) {
    float* const out = f.out[p] + out_offset;
    const float* const residual = with_residual ? f.residual[p] + out_offset : nullptr;
    const int32x4_t products = vdupq_n_s32(f.products[p]);
    Word bits = 0;
#pragma GCC unroll 8
    for (int j = 0; j < full; ++j) {
      const int32x4_t c = vreinterpretq_s32_u32(counts[p][j]);
      const int32x4_t dot = vsubq_s32(products, vaddq_s32(c, c));
      float32x4_t v = vaddq_f32(vmulq_f32(vcvtq_f32_s32(dot), vld1q_f32(f.scale + 4 * j)),
                                vld1q_f32(f.bias + 4 * j));
      if (with_residual) v = vaddq_f32(v, vld1q_f32(residual + 4 * j));
      // v < 0 ? 0 : v, keeping NaN and -0 (both compare false).
      if (relu) v = neon::relu(v);
      vst1q_f32(out + 4 * j, v);
      if (sum_threshold) {
        const uint32x4_t negative = vcltq_f32(v, vld1q_f32(sum_threshold + 4 * j));
        bits |= static_cast<Word>(vaddvq_u32(vandq_u32(negative, bit_of_lane))) << (4 * j);
      }
    }
    if (full < kNv && full * 4 < channels) {  // the last block's tail
      uint32_t tail[4];
      vst1q_u32(tail, counts[p][full]);
      for (int64_t j = full * 4; j < channels; ++j) {
        const float v = bconv_float_value(f, p, j, static_cast<int32_t>(tail[j - full * 4]));
        out[j] = v;
        if (sum_threshold) bits |= Word{v < sum_threshold[j]} << j;
      }
    }
    if (sum_threshold) {
      Word& word = f.sum_bits[p][out_offset / kBitsPerWord];
      const int64_t shift = out_offset % kBitsPerWord;
      if (shift == 0) word = 0;
      const Word own = low_bits_mask(channels) << shift;
      word = (word & ~own) | (bits << shift);
    }
  }
}

// LD1R: the broadcast costs no vector ALU op (from vld1q_dup_u32 GCC made an indexed LDR s
// and a DUP element, a vector op per pixel and step).
inline uint32x4_t broadcast(const uint32_t* p) {
  uint32x4_t v;
  asm("ld1r {%0.4s}, [%1]" : "=w"(v) : "r"(p), "m"(*p));
  return v;
}

template <int MR, bool kMasked>
void tile(int64_t taps, const BconvTap* tap_list, int64_t lanes, const Word* const* pixels,
          const uint32_t* weights, int32_t* counts, int64_t counts_stride,
          const BconvFloatOutput* to_float, int64_t mask_offset) {
  uint16x8_t acc[MR][kNv];
#pragma GCC unroll 8
  for (int p = 0; p < MR; ++p) {
#pragma GCC unroll 8
    for (int j = 0; j < kNv; ++j) acc[p][j] = vdupq_n_u16(0);
  }
  const uint32_t* base[MR];
#pragma GCC unroll 8
  for (int p = 0; p < MR; ++p) base[p] = reinterpret_cast<const uint32_t*>(pixels[p]);
  const int64_t mask_lanes = 2 * mask_offset;  // the mask lanes sit this many lanes later
  // The u32 totals of the accumulators flushed so far (only past kFlushSteps steps).
  uint32_t totals[MR][kNb];
  bool flushed = false;
  int64_t budget = kFlushSteps;
  for (int64_t i = 0; i < taps; ++i) {
    const int64_t tap = 2 * tap_list[i].a_offset;  // in lanes
    const uint32_t* w = weights + tap_list[i].w_row * lanes * kNb;
    int64_t k = 0;
    while (k < lanes) {
      const int64_t end = k + std::min(lanes - k, budget);
      budget -= end - k;
      for (; k < end; ++k) {
        uint32x4_t wv[kNv];
#pragma GCC unroll 8
        for (int j = 0; j < kNv; ++j) wv[j] = vld1q_u32(w + 4 * j);
        w += kNb;
#pragma GCC unroll 8
        for (int p = 0; p < MR; ++p) {
          const uint32x4_t av = broadcast(base[p] + tap + k);
          const uint32x4_t mv = kMasked ? broadcast(base[p] + tap + k + mask_lanes) : uint32x4_t{};
#pragma GCC unroll 8
          for (int j = 0; j < kNv; ++j) {
            uint32x4_t differ = veorq_u32(av, wv[j]);
            if (kMasked) differ = vandq_u32(differ, mv);
            acc[p][j] = vpadalq_u8(acc[p][j], vcntq_u8(vreinterpretq_u8_u32(differ)));
          }
        }
      }
      if (budget == 0) {  // widen into the u32 totals before a u16 lane can overflow
#pragma GCC unroll 8
        for (int p = 0; p < MR; ++p) {
#pragma GCC unroll 8
          for (int j = 0; j < kNv; ++j) {
            uint32_t* t = &totals[p][4 * j];
            vst1q_u32(t, vpadalq_u16(flushed ? vld1q_u32(t) : vdupq_n_u32(0), acc[p][j]));
            acc[p][j] = vdupq_n_u16(0);
          }
        }
        flushed = true;
        budget = kFlushSteps;
      }
    }
  }
  uint32x4_t sums[MR][kNv];  // per channel, in channel order
#pragma GCC unroll 8
  for (int p = 0; p < MR; ++p) {
#pragma GCC unroll 8
    for (int j = 0; j < kNv; ++j) {
      sums[p][j] =
          flushed ? vpadalq_u16(vld1q_u32(&totals[p][4 * j]), acc[p][j]) : vpaddlq_u16(acc[p][j]);
    }
  }
  if (to_float) return store_float(sums, *to_float);
#pragma GCC unroll 8
  for (int p = 0; p < MR; ++p) {
#pragma GCC unroll 8
    for (int j = 0; j < kNv; ++j)
      vst1q_s32(counts + p * counts_stride + 4 * j, vreinterpretq_s32_u32(sums[p][j]));
  }
}

template <bool kMasked>
void dispatch(int64_t mr, int64_t taps, const BconvTap* tap_list, int64_t lanes,
              const Word* const* pixels, const void* weights, int32_t* counts,
              int64_t counts_stride, const BconvFloatOutput* f, int64_t mask_offset) {
  const uint32_t* w = static_cast<const uint32_t*>(weights);
  with_tile_rows<6>(mr, [&](auto rows) {
    tile<decltype(rows)::value, kMasked>(taps, tap_list, lanes, pixels, w, counts, counts_stride, f,
                                         mask_offset);
  });
}

}  // namespace

void bconv_ukernel_6x16__neon(int64_t mr, int64_t taps, const BconvTap* tap_list, int64_t lanes,
                              const Word* const* pixels, const void* weights, int32_t* counts,
                              int64_t counts_stride, const BconvFloatOutput* to_float) {
  dispatch<false>(mr, taps, tap_list, lanes, pixels, weights, counts, counts_stride, to_float, 0);
}

void bconv_masked_ukernel_6x16__neon(int64_t mr, int64_t taps, const BconvTap* tap_list,
                                     int64_t lanes, const Word* const* pixels, const void* weights,
                                     int32_t* counts, int64_t counts_stride,
                                     const BconvFloatOutput* to_float, int64_t mask_offset) {
  dispatch<true>(mr, taps, tap_list, lanes, pixels, weights, counts, counts_stride, to_float,
                 mask_offset);
}

}  // namespace xnorinfer
