// NEON bit-packing: 4 sign tests per compare (FCMLT #0; FCMEQ #0 for the nonzero plane). NEON
// has no movemask, so a 64-channel word is built from 16 compare masks narrowed to bytes, each
// byte ANDed with its bit's weight and summed pairwise (ADDP) down to the word's 8 bytes. A
// row's last partial word goes 4 channels per compare (ADDV of the weighted lanes), then one.
// Compares give the scalar kernel's answers for every input: NaN, -0 and +0 test as not
// negative, NaN as nonzero, negative denormals as negative (Linux runs with FPCR.FZ clear).
#include <arm_neon.h>

#include "xnorinfer/kernels/bitpack/bitpack.h"
#include "xnorinfer/kernels/bitpack/bitpack_common.h"
#include "xnorinfer/kernels/neon_lanes.h"

namespace xnorinfer {
namespace {

using neon::bits_from_mask;
using neon::weighted_bytes;
using neon::word_from_bytes;

// The channels' values from c (see bitpack.h's contract) plus their offsets.
struct RowOperands {
  const float* x;
  const float* scale;
  const float* bias;
  const float* offset;

  float32x4_t load(int64_t c) const {
    float32x4_t v = vld1q_f32(x + c);
    if (scale) v = vaddq_f32(vmulq_f32(v, vld1q_f32(scale + c)), vld1q_f32(bias + c));
    return offset ? vaddq_f32(v, vld1q_f32(offset + c)) : v;
  }
  float value(int64_t c) const { return tested_value(x, scale, bias, offset, c); }
};

// One row: out (and, with kMask, mask) words for channels [0, channels).
template <bool kMask>
void pack_row(const RowOperands& row, int64_t channels, Word* o, Word* m) {
  int64_t c = 0;
  for (; c + kBitsPerWord <= channels; c += kBitsPerWord) {
    uint8x16_t neg[4], zero[4];
    for (int q = 0; q < 4; ++q) {
      float32x4_t v[4];
      for (int i = 0; i < 4; ++i) v[i] = row.load(c + 16 * q + 4 * i);
      neg[q] =
          weighted_bytes(vcltzq_f32(v[0]), vcltzq_f32(v[1]), vcltzq_f32(v[2]), vcltzq_f32(v[3]));
      if (kMask) {
        zero[q] =
            weighted_bytes(vceqzq_f32(v[0]), vceqzq_f32(v[1]), vceqzq_f32(v[2]), vceqzq_f32(v[3]));
      }
    }
    o[c / kBitsPerWord] = word_from_bytes(neg);
    if (kMask) m[c / kBitsPerWord] = ~word_from_bytes(zero);  // not == 0: NaN is nonzero
  }
  if (c < channels) {  // the partial last word; its bits past `channels` stay 0
    Word word = 0, nonzero = 0;
    int64_t i = 0;
    for (; c + i + 4 <= channels; i += 4) {
      const float32x4_t v = row.load(c + i);
      word |= bits_from_mask(vcltzq_f32(v)) << i;
      if (kMask) nonzero |= bits_from_mask(vmvnq_u32(vceqzq_f32(v))) << i;
    }
    for (; c + i < channels; ++i) {
      const float v = row.value(c + i);
      word |= Word{v < 0.0f} << i;
      nonzero |= Word{v != 0.0f} << i;
    }
    o[c / kBitsPerWord] = word;
    if (kMask) m[c / kBitsPerWord] = nonzero;
  }
}

}  // namespace

void bitpack_ukernel__neon(const float* x, int64_t rows, int64_t channels, int64_t x_row_stride,
                           const float* scale, const float* bias, const float* offset, Word* out,
                           Word* mask, int64_t out_row_stride, float* abs_mean) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * x_row_stride;
    Word* o = out + r * out_row_stride;
    const RowOperands row{xr, scale, bias, offset};
    if (mask) {
      pack_row<true>(row, channels, o, mask + r * out_row_stride);
    } else {
      pack_row<false>(row, channels, o, nullptr);
    }
    if (abs_mean) abs_mean[r] = abs_mean_in_order(xr, scale, bias, channels);
  }
}

}  // namespace xnorinfer
