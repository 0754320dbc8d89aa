// AVX-512 VPOPCNTDQ binary GEMM: 4 rows of a x 4 rows of b per tile, 8 words (512 bits) per
// step, XOR + VPOPCNTQ + ADD into 16 zmm accumulators.
#include <immintrin.h>

#include "xnorinfer/kernels/bgemm/bgemm.h"

namespace xnorinfer {
namespace {

inline int32_t horizontal_sum(__m512i v) {
  const __m256i half = _mm256_add_epi64(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  const __m128i quarter = _mm_add_epi64(_mm256_castsi256_si128(half), _mm256_extracti128_si256(half, 1));
  return static_cast<int32_t>(_mm_cvtsi128_si64(quarter) + _mm_extract_epi64(quarter, 1));
}

template <int MR, int NR>
void tile(int64_t k_words, const Word* a, int64_t a_stride, const Word* b, int64_t b_stride,
          int32_t* c, int64_t c_stride) {
  __m512i acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_si512();
  for (int64_t w = 0; w < k_words; w += 8) {
    __m512i av[MR], bv[NR];
    for (int i = 0; i < MR; ++i) av[i] = _mm512_loadu_si512(a + i * a_stride + w);
    for (int j = 0; j < NR; ++j) bv[j] = _mm512_loadu_si512(b + j * b_stride + w);
    for (int i = 0; i < MR; ++i) {
      for (int j = 0; j < NR; ++j) {
        acc[i][j] = _mm512_add_epi64(acc[i][j], _mm512_popcnt_epi64(_mm512_xor_si512(av[i], bv[j])));
      }
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j)
      c[i * c_stride + j] = horizontal_sum(acc[i][j]);
}

template <int MR>
void row_block(int64_t n, int64_t k_words, const Word* a, int64_t a_stride, const Word* b,
               int64_t b_stride, int32_t* c, int64_t c_stride) {
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) tile<MR, 4>(k_words, a, a_stride, b + j * b_stride, b_stride, c + j, c_stride);
  for (; j < n; ++j) tile<MR, 1>(k_words, a, a_stride, b + j * b_stride, b_stride, c + j, c_stride);
}

}  // namespace

void bgemm_ukernel_4x4__avx512vpopcnt(int64_t m, int64_t n, int64_t k_words, const Word* a,
                                      int64_t a_stride, const Word* b, int64_t b_stride,
                                      int32_t* c, int64_t c_stride) {
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) {
    row_block<4>(n, k_words, a + i * a_stride, a_stride, b, b_stride, c + i * c_stride, c_stride);
  }
  for (; i < m; ++i) {
    row_block<1>(n, k_words, a + i * a_stride, a_stride, b, b_stride, c + i * c_stride, c_stride);
  }
}

}  // namespace xnorinfer
