// AVX2 output transforms: 8 channels per step; bits through a compare and movemask.
#include <immintrin.h>

#include "xnorinfer/kernels/output/output.h"

namespace xnorinfer {

void dot_to_float_ukernel__avx2(const int32_t* counts, int32_t products, int64_t n,
                                const float* scale, const float* bias, float* out) {
  const __m256i p = _mm256_set1_epi32(products);
  int64_t o = 0;
  for (; o + 8 <= n; o += 8) {
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(counts + o));
    const __m256 dot = _mm256_cvtepi32_ps(_mm256_sub_epi32(p, _mm256_add_epi32(c, c)));
    _mm256_storeu_ps(out + o, _mm256_add_ps(_mm256_mul_ps(dot, _mm256_loadu_ps(scale + o)),
                                            _mm256_loadu_ps(bias + o)));
  }
  for (; o < n; ++o) out[o] = static_cast<float>(products - 2 * counts[o]) * scale[o] + bias[o];
}

void dot_to_bits_ukernel__avx2(const int32_t* counts, int32_t products, int64_t n,
                               const int32_t* below, const int32_t* above, Word* out) {
  const __m256i p = _mm256_set1_epi32(products);
  for (int64_t w = 0; w < words_for_bits(n); ++w) {
    Word word = 0;
    const int64_t end = n - w * kBitsPerWord < kBitsPerWord ? n : (w + 1) * kBitsPerWord;
    int64_t o = w * kBitsPerWord;
    for (; o + 8 <= end; o += 8) {
      const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(counts + o));
      const __m256i dot = _mm256_sub_epi32(p, _mm256_add_epi32(c, c));
      const __m256i lo =
          _mm256_cmpgt_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(below + o)), dot);
      const __m256i hi =
          _mm256_cmpgt_epi32(dot, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(above + o)));
      const Word bits =
          static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_or_si256(lo, hi))));
      word |= bits << (o % kBitsPerWord);
    }
    for (; o < end; ++o) {
      const int32_t dot = products - 2 * counts[o];
      word |= Word{dot < below[o] || dot > above[o]} << (o % kBitsPerWord);
    }
    out[w] = word;
  }
}

}  // namespace xnorinfer
