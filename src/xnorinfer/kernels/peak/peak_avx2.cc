// 8 independent XOR + nibble-lookup popcount + VPSADBW + ADD chains on ymm registers: the
// ceiling of the AVX2 kernels' popcount method. Each chain XORs its own accumulator, so no two
// chains compute the same popcount. And 12 independent FMA chains.
#include <immintrin.h>

#include "xnorinfer/kernels/peak/peak.h"

namespace xnorinfer {

int64_t xor_popcount_loop__avx2(int64_t iterations) {
  constexpr int kChains = 8;
  const __m256i lookup = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1,
                                          2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low_nibbles = _mm256_set1_epi8(0x0f);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i x = _mm256_set1_epi64x(0x0123456789abcdefLL);
  __m256i acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_epi64x(i);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 32  // the chains must live in registers
    for (int i = 0; i < kChains; ++i) {
      const __m256i v = _mm256_xor_si256(acc[i], x);
      const __m256i lo = _mm256_and_si256(v, low_nibbles);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low_nibbles);
      const __m256i bytes =
          _mm256_add_epi8(_mm256_shuffle_epi8(lookup, lo), _mm256_shuffle_epi8(lookup, hi));
      acc[i] = _mm256_add_epi64(acc[i], _mm256_sad_epu8(bytes, zero));
    }
  }
  __m256i sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_epi64(sum, acc[i]);
  alignas(32) long long lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sum);
  volatile long long sink = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  (void)sink;
  return iterations * kChains * 256;
}

int64_t fma_loop__avx2(int64_t iterations) {
  constexpr int kChains = 12;
  // acc = acc * m + c converges to c / (1 - m): finite, never subnormal.
  const __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.001f);
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 32  // the chains must live in registers
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, c);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  volatile float sink = lanes[0] + lanes[7];
  (void)sink;
  return iterations * kChains * 8;
}

}  // namespace xnorinfer
