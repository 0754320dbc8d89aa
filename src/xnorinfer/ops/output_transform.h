// From a binary layer's integer dot product to its output, in one place.
//
//   dot  = sum of a * w over the valid ±1 products (an integer, exact on every kernel path)
//   v    = dot * scale[o] + bias[o]                     alpha and a folded BatchNorm
//   v    = (v * K) * post_scale[o] + post_bias[o]       only with the XNOR-Net K map
//   out  = v                                            float output, or
//   bit  = (v + out_offset[o]) < 0                      packed output (BatchNorm + Sign fused)
//
// Each step is a separate float multiply or add (kernels build with -ffp-contract=off), so
// every ISA path and thread count rounds identically.
#pragma once

#include <cstdint>

#include "xnorinfer/base/bits.h"

namespace xnorinfer {

struct OutputTransform {
  const float* scale = nullptr;
  const float* bias = nullptr;
  const float* post_scale = nullptr;  // non-null exactly when the K map is used
  const float* post_bias = nullptr;
  const float* out_offset = nullptr;  // non-null exactly for packed output

  // Writes channels [0, count) of one output position from its counts of differing bits:
  // dot = products - 2 * count. One branch-free loop per mode, so each vectorizes.
  void write(const int32_t* counts, int32_t products, int64_t count, float k, float* out_f32,
             Word* out_bits) const {
    if (out_offset == nullptr && post_scale == nullptr) {
      for (int64_t o = 0; o < count; ++o) {
        out_f32[o] = static_cast<float>(products - 2 * counts[o]) * scale[o] + bias[o];
      }
      return;
    }
    if (out_offset == nullptr) {
      for (int64_t o = 0; o < count; ++o) out_f32[o] = value(o, products - 2 * counts[o], k);
      return;
    }
    for (int64_t w = 0; w < words_for_bits(count); ++w) {
      Word word = 0;
      const int64_t end = count - w * kBitsPerWord < kBitsPerWord ? count : (w + 1) * kBitsPerWord;
      for (int64_t o = w * kBitsPerWord; o < end; ++o) {
        word |= Word{value(o, products - 2 * counts[o], k) + out_offset[o] < 0.0f}
                << (o % kBitsPerWord);
      }
      out_bits[w] = word;
    }
  }

 private:
  float value(int64_t o, int32_t dot, float k) const {
    float v = static_cast<float>(dot) * scale[o] + bias[o];
    if (post_scale) v = (v * k) * post_scale[o] + post_bias[o];
    return v;
  }
};

}  // namespace xnorinfer
