// 24 independent XOR + VPOPCNTQ + ADD chains on zmm registers: the AVX-512 ceiling. Each
// chain XORs its own accumulator, so no two chains compute the same popcount (which the
// compiler would otherwise merge). And 24 independent FMA chains, enough to cover the FMA
// latency on every core we know.
#include <immintrin.h>

#include "xnorinfer/kernels/peak/peak.h"

namespace xnorinfer {

int64_t xor_popcount_loop__avx512vpopcnt(int64_t iterations) {
  constexpr int kChains = 24;
  constexpr int kOperands = 4;  // 24 accumulators + 4 operands fit the 32 zmm registers
  __m512i acc[kChains];
  __m512i x[kOperands];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_setzero_si512();
  for (int i = 0; i < kOperands; ++i) x[i] = _mm512_set1_epi64(0x0123456789abcdefLL * (i + 1));
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 32  // the chains must live in registers
    for (int i = 0; i < kChains; ++i) {
      acc[i] =
          _mm512_add_epi64(acc[i], _mm512_popcnt_epi64(_mm512_xor_si512(acc[i], x[i % kOperands])));
    }
  }
  __m512i sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_epi64(sum, acc[i]);
  alignas(64) long long lanes[8];  // not _mm512_reduce_add_epi64: GCC 12 warns inside it
  _mm512_store_si512(lanes, sum);
  volatile long long sink = lanes[0] + lanes[7];
  (void)sink;
  return iterations * kChains * 512;
}

int64_t fma_loop__avx512f(int64_t iterations) {
  constexpr int kChains = 24;
  // acc = acc * m + c converges to c / (1 - m): finite, never subnormal.
  const __m512 m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 32  // the chains must live in registers
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, c);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  volatile float sink = lanes[0] + lanes[15];
  (void)sink;
  return iterations * kChains * 16;
}

}  // namespace xnorinfer
