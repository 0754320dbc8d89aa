// Portable output transforms, one channel at a time.
#include "xnorinfer/kernels/output/output.h"

namespace xnorinfer {

void dot_to_float_ukernel__scalar(const int32_t* counts, int32_t products, int64_t n,
                                  const float* scale, const float* bias, float* out) {
  for (int64_t o = 0; o < n; ++o) {
    out[o] = static_cast<float>(products - 2 * counts[o]) * scale[o] + bias[o];
  }
}

void dot_to_bits_ukernel__scalar(const int32_t* counts, int32_t products, int64_t n,
                                 const int32_t* below, const int32_t* above, Word* out) {
  for (int64_t w = 0; w < words_for_bits(n); ++w) {
    Word word = 0;
    const int64_t end = n - w * kBitsPerWord < kBitsPerWord ? n : (w + 1) * kBitsPerWord;
    for (int64_t o = w * kBitsPerWord; o < end; ++o) {
      const int32_t dot = products - 2 * counts[o];
      word |= Word{dot < below[o] || dot > above[o]} << (o % kBitsPerWord);
    }
    out[w] = word;
  }
}

}  // namespace xnorinfer
