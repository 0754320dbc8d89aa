// AVX2 binary GEMM: 2 rows of a x 4 rows of b per tile, 4 words per step. Popcount by nibble
// lookup (vpshufb) into byte counts, which are summed into 64-bit lanes with vpsadbw.
#include <immintrin.h>

#include "xnorinfer/kernels/bgemm/bgemm.h"

namespace xnorinfer {
namespace {

inline __m256i popcount_bytes(__m256i v) {
  const __m256i lookup = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                          0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low_nibbles = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_and_si256(v, low_nibbles);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low_nibbles);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lookup, lo), _mm256_shuffle_epi8(lookup, hi));
}

inline int32_t horizontal_sum(__m256i v) {
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return static_cast<int32_t>(_mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1));
}

template <int MR, int NR>
void tile(int64_t k_words, const Word* a, int64_t a_stride, const Word* b, int64_t b_stride,
          int32_t* c, int64_t c_stride) {
  const __m256i zero = _mm256_setzero_si256();
  __m256i acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = zero;
  for (int64_t w = 0; w < k_words; w += 4) {
    __m256i av[MR], bv[NR];
    for (int i = 0; i < MR; ++i)
      av[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i * a_stride + w));
    for (int j = 0; j < NR; ++j)
      bv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + j * b_stride + w));
    for (int i = 0; i < MR; ++i) {
      for (int j = 0; j < NR; ++j) {
        const __m256i counts = popcount_bytes(_mm256_xor_si256(av[i], bv[j]));
        acc[i][j] = _mm256_add_epi64(acc[i][j], _mm256_sad_epu8(counts, zero));
      }
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) c[i * c_stride + j] = horizontal_sum(acc[i][j]);
}

}  // namespace

void bgemm_ukernel_2x4__avx2(int64_t m, int64_t n, int64_t k_words, const Word* a,
                             int64_t a_stride, const Word* b, int64_t b_stride, int32_t* c,
                             int64_t c_stride) {
  int64_t i = 0;
  for (; i + 2 <= m; i += 2) {
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
      tile<2, 4>(k_words, a + i * a_stride, a_stride, b + j * b_stride, b_stride,
                 c + i * c_stride + j, c_stride);
    }
    for (; j < n; ++j) {
      tile<2, 1>(k_words, a + i * a_stride, a_stride, b + j * b_stride, b_stride,
                 c + i * c_stride + j, c_stride);
    }
  }
  for (; i < m; ++i) {
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
      tile<1, 4>(k_words, a + i * a_stride, a_stride, b + j * b_stride, b_stride,
                 c + i * c_stride + j, c_stride);
    }
    for (; j < n; ++j) {
      tile<1, 1>(k_words, a + i * a_stride, a_stride, b + j * b_stride, b_stride,
                 c + i * c_stride + j, c_stride);
    }
  }
}

}  // namespace xnorinfer
