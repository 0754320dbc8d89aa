// Building packed words from NEON compare masks, shared by the NEON kernels that write bits
// (bitpack, output). NEON has no movemask: 16 channels' masks are narrowed to bytes, each byte
// ANDed with its bit's weight, and pairwise adds (ADDP) sum them down to a word's 8 bytes.
#pragma once

#include <arm_neon.h>

#include "xnorinfer/base/bits.h"

namespace xnorinfer::neon {

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

}  // namespace xnorinfer::neon
