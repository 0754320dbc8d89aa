// Portable bit-packing: builds each word from up to 64 sign tests.
#include "xnorinfer/kernels/bitpack/bitpack.h"
#include "xnorinfer/kernels/bitpack/bitpack_common.h"

namespace xnorinfer {

void bitpack_ukernel__scalar(const float* x, int64_t rows, int64_t channels, int64_t x_row_stride,
                             const float* scale, const float* bias, const float* offset, Word* out,
                             Word* mask, int64_t out_row_stride, float* abs_mean) {
  const int64_t words = words_for_bits(channels);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * x_row_stride;
    Word* o = out + r * out_row_stride;
    for (int64_t w = 0; w < words; ++w) {
      const int64_t c0 = w * kBitsPerWord;
      const int64_t n = channels - c0 < kBitsPerWord ? channels - c0 : kBitsPerWord;
      Word word = 0, nonzero = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float v = tested_value(xr, scale, bias, offset, c0 + i);
        word |= Word{v < 0.0f} << i;
        nonzero |= Word{v != 0.0f} << i;
      }
      o[w] = word;
      if (mask) mask[r * out_row_stride + w] = nonzero;
    }
    if (abs_mean) abs_mean[r] = abs_mean_in_order(xr, scale, bias, channels);
  }
}

}  // namespace xnorinfer
