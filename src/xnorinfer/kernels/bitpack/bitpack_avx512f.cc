// AVX-512 bit-packing: 16 sign tests per compare into a mask register.
#include <immintrin.h>

#include "xnorinfer/kernels/avx512_lanes.h"
#include "xnorinfer/kernels/bitpack/bitpack.h"
#include "xnorinfer/kernels/bitpack/bitpack_common.h"

namespace xnorinfer {

void bitpack_ukernel__avx512f(const float* x, int64_t rows, int64_t channels, int64_t x_row_stride,
                              const float* scale, const float* bias, const float* offset, Word* out,
                              Word* mask, int64_t out_row_stride, float* abs_mean) {
  const int64_t words = words_for_bits(channels);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * x_row_stride;
    Word* o = out + r * out_row_stride;
    for (int64_t w = 0; w < words; ++w) {
      Word word = 0, nonzero = 0;
      for (int64_t i = 0; i < kBitsPerWord; i += 16) {
        const int64_t c = w * kBitsPerWord + i;
        if (c >= channels) break;
        const int64_t n = channels - c < 16 ? channels - c : 16;
        const __mmask16 valid = first_lanes(n);
        __m512 v = _mm512_maskz_loadu_ps(valid, xr + c);
        if (scale) {
          v = _mm512_add_ps(_mm512_mul_ps(v, _mm512_maskz_loadu_ps(valid, scale + c)),
                            _mm512_maskz_loadu_ps(valid, bias + c));
        }
        if (offset) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(valid, offset + c));
        const __mmask16 neg = _mm512_mask_cmp_ps_mask(valid, v, zero, _CMP_LT_OQ);
        word |= static_cast<Word>(neg) << i;
        if (mask) {  // unordered not-equal: NaN is nonzero
          nonzero |= static_cast<Word>(_mm512_mask_cmp_ps_mask(valid, v, zero, _CMP_NEQ_UQ)) << i;
        }
      }
      o[w] = word;
      if (mask) mask[r * out_row_stride + w] = nonzero;
    }
    if (abs_mean) abs_mean[r] = abs_mean_in_order(xr, scale, bias, channels);
  }
}

}  // namespace xnorinfer
