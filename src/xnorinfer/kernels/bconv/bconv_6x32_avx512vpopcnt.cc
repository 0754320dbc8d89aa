// AVX-512 VPOPCNTDQ indirect binary convolution: 6 pixels x 32 output channels (24 zmm
// accumulators, the 4 weight vectors of a step stay in registers). One 64-bit lane per output
// channel: the pixel's word is broadcast, XORed with 8 channels' words, VPOPCNTQ, added.
#include <immintrin.h>

#include "xnorinfer/kernels/bconv/bconv.h"

namespace xnorinfer {
namespace {

constexpr int kNr = 4;  // zmm (8 output channels each) per pixel row

template <int MR>
void tile(int64_t taps, int64_t wpt, const Word* const* a, const Word* weights, int32_t* counts,
          int64_t counts_stride) {
  __m512i acc[MR][kNr];
  for (int p = 0; p < MR; ++p)
    for (int j = 0; j < kNr; ++j) acc[p][j] = _mm512_setzero_si512();
  for (int64_t t = 0; t < taps; ++t) {
    const Word* ap[MR];
    for (int p = 0; p < MR; ++p) ap[p] = a[p * taps + t];
    for (int64_t w = 0; w < wpt; ++w) {
      const Word* wrow = weights + (t * wpt + w) * (8 * kNr);
      __m512i wv[kNr];
      for (int j = 0; j < kNr; ++j) wv[j] = _mm512_load_si512(wrow + 8 * j);
      for (int p = 0; p < MR; ++p) {
        const __m512i av = _mm512_set1_epi64(static_cast<long long>(ap[p][w]));
        for (int j = 0; j < kNr; ++j) {
          acc[p][j] = _mm512_add_epi64(acc[p][j], _mm512_popcnt_epi64(_mm512_xor_si512(av, wv[j])));
        }
      }
    }
  }
  for (int p = 0; p < MR; ++p) {
    for (int j = 0; j < kNr; ++j) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(counts + p * counts_stride + 8 * j),
                          _mm512_cvtepi64_epi32(acc[p][j]));
    }
  }
}

}  // namespace

void bconv_ukernel_6x32__avx512vpopcnt(int64_t mr, int64_t taps, int64_t wpt, const Word* const* a,
                                       const Word* weights, int32_t* counts, int64_t counts_stride) {
  switch (mr) {
    case 6: return tile<6>(taps, wpt, a, weights, counts, counts_stride);
    case 5: return tile<5>(taps, wpt, a, weights, counts, counts_stride);
    case 4: return tile<4>(taps, wpt, a, weights, counts, counts_stride);
    case 3: return tile<3>(taps, wpt, a, weights, counts, counts_stride);
    case 2: return tile<2>(taps, wpt, a, weights, counts, counts_stride);
    default: return tile<1>(taps, wpt, a, weights, counts, counts_stride);
  }
}

}  // namespace xnorinfer
