// AVX-512 output transforms: 16 channels per step, masked tails; bits straight from the
// compare masks.
#include <immintrin.h>

#include "xnorinfer/kernels/avx512_lanes.h"
#include "xnorinfer/kernels/output/output.h"

namespace xnorinfer {

void dot_to_float_ukernel__avx512f(const int32_t* counts, int32_t products, int64_t n,
                                   const float* scale, const float* bias, float* out) {
  const __m512i p = _mm512_set1_epi32(products);
  for (int64_t o = 0; o < n; o += 16) {
    const __mmask16 m = first_lanes(n - o);
    const __m512i c = _mm512_maskz_loadu_epi32(m, counts + o);
    const __m512 dot = _mm512_cvtepi32_ps(_mm512_sub_epi32(p, _mm512_add_epi32(c, c)));
    const __m512 v = _mm512_add_ps(_mm512_mul_ps(dot, _mm512_maskz_loadu_ps(m, scale + o)),
                                   _mm512_maskz_loadu_ps(m, bias + o));
    _mm512_mask_storeu_ps(out + o, m, v);
  }
}

void dot_to_bits_ukernel__avx512f(const int32_t* counts, int32_t products, int64_t n,
                                  const int32_t* below, const int32_t* above, Word* out) {
  const __m512i p = _mm512_set1_epi32(products);
  for (int64_t w = 0; w < words_for_bits(n); ++w) {
    Word word = 0;
    for (int64_t i = 0; i < kBitsPerWord; i += 16) {
      const int64_t o = w * kBitsPerWord + i;
      if (o >= n) break;
      const __mmask16 m = first_lanes(n - o);
      const __m512i c = _mm512_maskz_loadu_epi32(m, counts + o);
      const __m512i dot = _mm512_sub_epi32(p, _mm512_add_epi32(c, c));
      const __mmask16 lo =
          _mm512_mask_cmplt_epi32_mask(m, dot, _mm512_maskz_loadu_epi32(m, below + o));
      const __mmask16 hi =
          _mm512_mask_cmpgt_epi32_mask(m, dot, _mm512_maskz_loadu_epi32(m, above + o));
      word |= static_cast<Word>(static_cast<uint16_t>(lo | hi)) << i;
    }
    out[w] = word;
  }
}

}  // namespace xnorinfer
