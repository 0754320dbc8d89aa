// NEON output transforms: 4 channels per step. To float: SCVTF, then FMUL and FADD (never a
// fused FMLA, which would round once where the scalar kernel rounds twice). To bits: two
// integer compares per 4 channels; NEON has no movemask, so a 64-channel word is built from 16
// compare masks narrowed to bytes, each byte ANDed with its bit's weight and summed pairwise
// (ADDP) down to the word's 8 bytes. A partial last word goes 4 channels per step, then one.
#include <arm_neon.h>

#include "xnorinfer/kernels/neon_lanes.h"
#include "xnorinfer/kernels/output/output.h"

namespace xnorinfer {
namespace {

using neon::bits_from_mask;
using neon::weighted_bytes;
using neon::word_from_bytes;

// dot < below || dot > above for channels o..o+3.
inline uint32x4_t outside(int32x4_t p, const int32_t* counts, const int32_t* below,
                          const int32_t* above, int64_t o) {
  const int32x4_t c = vld1q_s32(counts + o);
  const int32x4_t dot = vsubq_s32(p, vaddq_s32(c, c));
  return vorrq_u32(vcltq_s32(dot, vld1q_s32(below + o)), vcgtq_s32(dot, vld1q_s32(above + o)));
}

}  // namespace

void dot_to_float_ukernel__neon(const int32_t* counts, int32_t products, int64_t n,
                                const float* scale, const float* bias, float* out) {
  const int32x4_t p = vdupq_n_s32(products);
  int64_t o = 0;
  for (; o + 4 <= n; o += 4) {
    const int32x4_t c = vld1q_s32(counts + o);
    const float32x4_t dot = vcvtq_f32_s32(vsubq_s32(p, vaddq_s32(c, c)));
    vst1q_f32(out + o, vaddq_f32(vmulq_f32(dot, vld1q_f32(scale + o)), vld1q_f32(bias + o)));
  }
  for (; o < n; ++o) out[o] = static_cast<float>(products - 2 * counts[o]) * scale[o] + bias[o];
}

void dot_to_bits_ukernel__neon(const int32_t* counts, int32_t products, int64_t n,
                               const int32_t* below, const int32_t* above, Word* out) {
  const int32x4_t p = vdupq_n_s32(products);
  for (int64_t w = 0; w < words_for_bits(n); ++w) {
    const int64_t base = w * kBitsPerWord;
    if (n - base >= kBitsPerWord) {
      uint8x16_t bytes[4];
      for (int q = 0; q < 4; ++q) {
        const int64_t o = base + 16 * q;
        bytes[q] = weighted_bytes(
            outside(p, counts, below, above, o), outside(p, counts, below, above, o + 4),
            outside(p, counts, below, above, o + 8), outside(p, counts, below, above, o + 12));
      }
      out[w] = word_from_bytes(bytes);
      continue;
    }
    Word word = 0;  // the partial last word; its bits past n stay 0
    int64_t o = base;
    for (; o + 4 <= n; o += 4)
      word |= bits_from_mask(outside(p, counts, below, above, o)) << (o - base);
    for (; o < n; ++o) {
      const int32_t dot = products - 2 * counts[o];
      word |= Word{dot < below[o] || dot > above[o]} << (o - base);
    }
    out[w] = word;
  }
}

}  // namespace xnorinfer
