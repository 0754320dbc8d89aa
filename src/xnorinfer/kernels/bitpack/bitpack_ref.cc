#include "xnorinfer/kernels/bitpack/bitpack.h"
#include "xnorinfer/kernels/bitpack/bitpack_common.h"

namespace xnorinfer {

void bitpack_ref(const float* x, int64_t rows, int64_t channels, int64_t x_row_stride,
                 const float* scale, const float* bias, const float* offset, Word* out, Word* mask,
                 int64_t out_row_stride, float* abs_mean) {
  const int64_t words = words_for_bits(channels);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * x_row_stride;
    Word* o = out + r * out_row_stride;
    Word* m = mask ? mask + r * out_row_stride : nullptr;
    for (int64_t w = 0; w < words; ++w) {
      o[w] = 0;
      if (m) m[w] = 0;
    }
    for (int64_t c = 0; c < channels; ++c) {
      const float v = tested_value(xr, scale, bias, offset, c);
      const Word bit = Word{1} << (c % kBitsPerWord);
      if (v < 0.0f) o[c / kBitsPerWord] |= bit;
      if (m && !(v == 0.0f)) m[c / kBitsPerWord] |= bit;
    }
    if (abs_mean) abs_mean[r] = abs_mean_in_order(xr, scale, bias, channels);
  }
}

}  // namespace xnorinfer
