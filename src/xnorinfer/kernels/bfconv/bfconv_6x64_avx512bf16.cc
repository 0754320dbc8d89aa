// AVX-512 BF16 direct convolution: 6 pixels x 64 output channels in 24 zmm accumulators; per
// 2 window elements, 4 weight vectors and one 32-bit broadcast per pixel feed 24 VDPBF16PS
// (32 multiply-adds each, twice an FMA's), read in place from the bf16 image.
// A narrower last block (a 96-channel layer's channels 64-95) runs on fewer vectors.
#include <immintrin.h>

#include <cstring>

#include "xnorinfer/kernels/avx512_lanes.h"
#include "xnorinfer/kernels/bfconv/bfconv.h"
#include "xnorinfer/kernels/tile_rows.h"

namespace xnorinfer {
namespace {

constexpr int kNr = 4;  // zmm (16 output channels each) per pixel
constexpr int kNb = 16 * kNr;

inline __m512bh broadcast_pair(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));  // unaligned: window rows start at any element
  return reinterpret_cast<__m512bh>(_mm512_set1_epi32(v));
}

template <int MR, int NR>
void tile(int64_t rows, int64_t row_stride, int64_t row_bytes, const uint8_t* const* pixels,
          const uint8_t* weights, const float* bias, bool relu, float* const* out,
          int64_t out_offset, int64_t channels) {
  __m512 acc[MR][NR];
  for (int p = 0; p < MR; ++p)
    for (int j = 0; j < NR; ++j) acc[p][j] = _mm512_setzero_ps();
  const uint8_t* w = weights;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* ap[MR];
    for (int p = 0; p < MR; ++p) ap[p] = pixels[p] + r * row_stride;
    for (int64_t k = 0; k < row_bytes; k += 4, w += 4 * kNb) {
      __m512bh wv[NR];
      for (int j = 0; j < NR; ++j) {
        wv[j] = reinterpret_cast<__m512bh>(_mm512_load_si512(w + 64 * j));
      }
      for (int p = 0; p < MR; ++p) {
        const __m512bh av = broadcast_pair(ap[p] + k);
        for (int j = 0; j < NR; ++j) acc[p][j] = _mm512_dpbf16_ps(acc[p][j], av, wv[j]);
      }
    }
  }
  for (int j = 0; j < NR; ++j) {
    const int64_t left = channels - 16 * j;
    if (left <= 0) break;
    const __mmask16 m = first_lanes(left);
    const __m512 b = _mm512_maskz_loadu_ps(m, bias + 16 * j);
    for (int p = 0; p < MR; ++p) {
      __m512 v = _mm512_add_ps(acc[p][j], b);
      if (relu) v = _mm512_max_ps(_mm512_setzero_ps(), v);  // keeps -0, as v < 0 ? 0 : v
      _mm512_mask_storeu_ps(out[p] + out_offset + 16 * j, m, v);
    }
  }
}

}  // namespace

// bf16_round.h's to_bf16 on 16 floats at a time, in the integers of their bits.
bool bf16_round_row__avx512bf16(const float* x, int64_t n, uint8_t* dst) {
  const __m512i exponent = _mm512_set1_epi32(0x7F800000), sign = _mm512_set1_epi32(INT32_MIN);
  const __m512i half_ulp = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1);
  __mmask16 special = 0;
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = first_lanes(n - i);
    __m512i bits = _mm512_maskz_loadu_epi32(m, x + i);
    special |= _mm512_mask_cmpeq_epi32_mask(m, _mm512_and_si512(bits, exponent), exponent);
    // A subnormal (exponent 0) keeps its sign only.
    bits = _mm512_mask_mov_epi32(_mm512_and_si512(bits, sign),
                                 _mm512_test_epi32_mask(bits, exponent), bits);
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(bits, 16), one);
    bits = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(bits, half_ulp), odd), 16);
    _mm512_mask_cvtepi32_storeu_epi16(dst + 2 * i, m, bits);
  }
  return special == 0;
}

void bfconv_ukernel_6x64__avx512bf16(int64_t mr, int64_t rows, int64_t row_stride,
                                     int64_t row_bytes, const uint8_t* const* pixels,
                                     const uint8_t* weights, const float* bias, bool relu,
                                     float* const* out, int64_t out_offset, int64_t channels) {
  with_tile_rows<6>(mr, [&](auto tile_rows) {
    with_channel_vectors<kNr>(channels, 16, [&](auto vectors) {
      tile<decltype(tile_rows)::value, decltype(vectors)::value>(
          rows, row_stride, row_bytes, pixels, weights, bias, relu, out, out_offset, channels);
    });
  });
}

}  // namespace xnorinfer
