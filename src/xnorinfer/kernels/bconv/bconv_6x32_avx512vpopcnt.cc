// AVX-512 VPOPCNTDQ indirect binary convolution: 6 pixels x 32 output channels (24 zmm
// accumulators, the 4 weight vectors of a step stay in registers). One 64-bit lane per output
// channel: the pixel's word is broadcast, XORed with 8 channels' words, VPOPCNTQ, added.
// The masked twin does the XOR and the AND with the pixel's nonzero mask in one VPTERNLOGQ,
// so it costs one extra broadcast per pixel word and nothing per output channel.
#include <immintrin.h>

#include "xnorinfer/kernels/bconv/bconv.h"

namespace xnorinfer {
namespace {

constexpr int kNr = 4;  // zmm (8 output channels each) per pixel row
// VPTERNLOGQ truth table of (a ^ w) & m for operands (a, w, m) = (0xF0, 0xCC, 0xAA).
constexpr int kXorAnd = (0xF0 ^ 0xCC) & 0xAA;

template <int MR, bool kMasked>
void tile(int64_t taps, int64_t wpt, const Word* const* a, const Word* weights, int32_t* counts,
          int64_t counts_stride, int64_t mask_offset) {
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
        if (kMasked) {
          const __m512i mv = _mm512_set1_epi64(static_cast<long long>(ap[p][w + mask_offset]));
          for (int j = 0; j < kNr; ++j) {
            const __m512i differ = _mm512_ternarylogic_epi64(av, wv[j], mv, kXorAnd);
            acc[p][j] = _mm512_add_epi64(acc[p][j], _mm512_popcnt_epi64(differ));
          }
        } else {
          for (int j = 0; j < kNr; ++j) {
            acc[p][j] = _mm512_add_epi64(acc[p][j], _mm512_popcnt_epi64(_mm512_xor_si512(av, wv[j])));
          }
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

template <bool kMasked>
void dispatch(int64_t mr, int64_t taps, int64_t wpt, const Word* const* a, const Word* weights,
              int32_t* counts, int64_t counts_stride, int64_t mask_offset) {
  switch (mr) {
    case 6: return tile<6, kMasked>(taps, wpt, a, weights, counts, counts_stride, mask_offset);
    case 5: return tile<5, kMasked>(taps, wpt, a, weights, counts, counts_stride, mask_offset);
    case 4: return tile<4, kMasked>(taps, wpt, a, weights, counts, counts_stride, mask_offset);
    case 3: return tile<3, kMasked>(taps, wpt, a, weights, counts, counts_stride, mask_offset);
    case 2: return tile<2, kMasked>(taps, wpt, a, weights, counts, counts_stride, mask_offset);
    default: return tile<1, kMasked>(taps, wpt, a, weights, counts, counts_stride, mask_offset);
  }
}

}  // namespace

void bconv_ukernel_6x32__avx512vpopcnt(int64_t mr, int64_t taps, int64_t wpt, const Word* const* a,
                                       const Word* weights, int32_t* counts, int64_t counts_stride) {
  dispatch<false>(mr, taps, wpt, a, weights, counts, counts_stride, 0);
}

void bconv_masked_ukernel_6x32__avx512vpopcnt(int64_t mr, int64_t taps, int64_t wpt,
                                              const Word* const* a, const Word* weights,
                                              int32_t* counts, int64_t counts_stride,
                                              int64_t mask_offset) {
  dispatch<true>(mr, taps, wpt, a, weights, counts, counts_stride, mask_offset);
}

}  // namespace xnorinfer
