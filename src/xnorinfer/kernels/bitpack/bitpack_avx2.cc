// AVX2 bit-packing: 8 sign tests per compare + movemask.
#include <immintrin.h>

#include "xnorinfer/kernels/bitpack/bitpack.h"
#include "xnorinfer/kernels/bitpack/bitpack_common.h"

namespace xnorinfer {

void bitpack_ukernel__avx2(const float* x, int64_t rows, int64_t channels, int64_t x_row_stride,
                           const float* scale, const float* bias, const float* offset, Word* out,
                           Word* mask, int64_t out_row_stride, float* abs_mean) {
  const int64_t words = words_for_bits(channels);
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * x_row_stride;
    Word* o = out + r * out_row_stride;
    Word* m = mask ? mask + r * out_row_stride : nullptr;
    for (int64_t w = 0; w < words; ++w) {
      o[w] = 0;
      if (m) m[w] = 0;
    }
    int64_t c = 0;
    for (; c + 8 <= channels; c += 8) {
      __m256 v = _mm256_loadu_ps(xr + c);
      if (scale)
        v = _mm256_add_ps(_mm256_mul_ps(v, _mm256_loadu_ps(scale + c)), _mm256_loadu_ps(bias + c));
      if (offset) v = _mm256_add_ps(v, _mm256_loadu_ps(offset + c));
      const Word bits = static_cast<Word>(_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_LT_OQ)));
      o[c / kBitsPerWord] |= bits << (c % kBitsPerWord);
      if (m) {  // unordered not-equal: NaN is nonzero
        const Word nonzero =
            static_cast<Word>(_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NEQ_UQ)));
        m[c / kBitsPerWord] |= nonzero << (c % kBitsPerWord);
      }
    }
    for (; c < channels; ++c) {
      const float v = tested_value(xr, scale, bias, offset, c);
      o[c / kBitsPerWord] |= Word{v < 0.0f} << (c % kBitsPerWord);
      if (m) m[c / kBitsPerWord] |= Word{v != 0.0f} << (c % kBitsPerWord);
    }
    if (abs_mean) abs_mean[r] = abs_mean_in_order(xr, scale, bias, channels);
  }
}

}  // namespace xnorinfer
