// What the NEON kernels share: packed words from compare masks (NEON has no movemask: 16
// channels' masks are narrowed to bytes, each byte ANDed with its bit's weight, and pairwise
// adds (ADDP) sum them down to a word's 8 bytes), the relu, and loads and stores of a vector's
// first lanes. Internal linkage: one of the including files (qconv's) is built with
// -march=armv8.2-a+dotprod, and no copy built that way may be shared with the others.
#pragma once

#include <arm_neon.h>

#include <cstdint>

#include "xnorinfer/base/bits.h"

namespace xnorinfer::neon {
namespace {

// 16 channels' masks (4 lanes of all ones or zero each) as 16 bytes, byte i = mask bit i % 8
// at bit position i % 8.
inline uint8x16_t weighted_bytes(uint32x4_t m0, uint32x4_t m1, uint32x4_t m2, uint32x4_t m3) {
  static const uint8_t kWeights[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint16x8_t lo = vcombine_u16(vmovn_u32(m0), vmovn_u32(m1));
  const uint16x8_t hi = vcombine_u16(vmovn_u32(m2), vmovn_u32(m3));
  return vandq_u8(vcombine_u8(vmovn_u16(lo), vmovn_u16(hi)), vld1q_u8(kWeights));
}

// Channels 0..63 from their weighted bytes (16 channels each): three pairwise adds sum each run
// of 8 bytes into one, and byte j of a little-endian word holds bits 8j..8j+7.
inline Word word_from_bytes(const uint8x16_t b[4]) {
  uint8x16_t s = vpaddq_u8(vpaddq_u8(b[0], b[1]), vpaddq_u8(b[2], b[3]));
  s = vpaddq_u8(s, s);
  return vgetq_lane_u64(vreinterpretq_u64_u8(s), 0);
}

// 4 channels' masks as bits 0..3.
inline Word bits_from_mask(uint32x4_t m) {
  static const uint32_t kWeights[4] = {1, 2, 4, 8};
  return vaddvq_u32(vandq_u32(m, vld1q_u32(kWeights)));
}

// relu that keeps NaN and -0, as the Relu op: a compare-and-clear (FMAX would make -0 into +0).
inline float32x4_t relu(float32x4_t v) {
  return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(v), vcltzq_f32(v)));
}

// The first min(n, 4) values of src (n >= 1) in the low lanes, 0 above: nothing past them is
// read, so a block's last channels load without reading past its arrays.
inline float32x4_t load_lanes(const float* src, int64_t n) {
  if (n >= 4) return vld1q_f32(src);
  float32x4_t v = vld1q_lane_f32(src, vdupq_n_f32(0.0f), 0);
  if (n > 1) v = vld1q_lane_f32(src + 1, v, 1);
  if (n > 2) v = vld1q_lane_f32(src + 2, v, 2);
  return v;
}

inline int32x4_t load_lanes(const int32_t* src, int64_t n) {
  if (n >= 4) return vld1q_s32(src);
  int32x4_t v = vld1q_lane_s32(src, vdupq_n_s32(0), 0);
  if (n > 1) v = vld1q_lane_s32(src + 1, v, 1);
  if (n > 2) v = vld1q_lane_s32(src + 2, v, 2);
  return v;
}

// The first min(n, 4) lanes of v to dst (n >= 1); nothing past them is written.
inline void store_lanes(float* dst, float32x4_t v, int64_t n) {
  if (n >= 4) {
    vst1q_f32(dst, v);
    return;
  }
  if (n & 2) {
    vst1_f32(dst, vget_low_f32(v));
    dst += 2;
    v = vextq_f32(v, v, 2);
  }
  if (n & 1) vst1q_lane_f32(dst, v, 0);
}

}  // namespace
}  // namespace xnorinfer::neon
