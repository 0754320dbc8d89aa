// AVX-512 VNNI direct int8 convolution: 6 pixels x 64 output channels in 24 zmm accumulators;
// per 4 window bytes, 4 weight vectors and one 32-bit broadcast per pixel feed 24 VPDPBUSD
// (64 multiply-adds each, four times an FMA's), read in place from the quantized image.
// A narrower last block (a 96-channel layer's channels 64-95) runs on fewer vectors.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "xnorinfer/kernels/avx512_lanes.h"
#include "xnorinfer/kernels/qconv/int8_quantize.h"
#include "xnorinfer/kernels/qconv/qconv.h"
#include "xnorinfer/kernels/qconv/qconv_avx512_output.h"
#include "xnorinfer/kernels/tile_rows.h"

namespace xnorinfer {
namespace {

constexpr int kNr = 4;  // zmm (16 output channels each) per pixel
constexpr int kNb = 16 * kNr;

inline __m512i broadcast_u32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));  // unaligned: window rows start at any byte
  return _mm512_set1_epi32(v);
}

template <int MR, int NR>
void tile(int64_t rows, int64_t row_stride, int64_t row_bytes, const uint8_t* const* pixels,
          const int8_t* weights, const QconvOutput& output, float* const* out, int64_t out_offset,
          int64_t channels) {
  __m512i acc[MR][NR];
  for (int p = 0; p < MR; ++p)
    for (int j = 0; j < NR; ++j) acc[p][j] = _mm512_setzero_si512();
  const int8_t* w = weights;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* ap[MR];
    for (int p = 0; p < MR; ++p) ap[p] = pixels[p] + r * row_stride;
    for (int64_t k = 0; k < row_bytes; k += 4, w += 4 * kNb) {
      __m512i wv[NR];
      for (int j = 0; j < NR; ++j) wv[j] = _mm512_load_si512(w + 64 * j);
      for (int p = 0; p < MR; ++p) {
        const __m512i av = broadcast_u32(ap[p] + k);
        for (int j = 0; j < NR; ++j) acc[p][j] = _mm512_dpbusd_epi32(acc[p][j], av, wv[j]);
      }
    }
  }
  for (int j = 0; j < NR; ++j) {  // NR vectors cover `channels` (with_channel_vectors)
    const DequantizedVector vector(output, channels, j);
    for (int p = 0; p < MR; ++p) vector.store(acc[p][j], out[p] + out_offset + 16 * j);
  }
}

}  // namespace

// int8_quantize.h's range 16 floats at a time, on the ordered keys of their bits; lanes past n
// load +0.0, which changes neither end of a range that holds 0.
void qconv_range__avx512vnni(const float* x, int64_t n, float* lo, float* hi, bool* finite) {
  const __m512i exponent = _mm512_set1_epi32(0x7F800000);
  const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
  __m512i low = _mm512_setzero_si512(), high = _mm512_setzero_si512();
  __mmask16 special = 0;
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = first_lanes(n - i);
    const __m512i bits = _mm512_maskz_loadu_epi32(m, x + i);
    const __m512i key =
        _mm512_xor_si512(bits, _mm512_and_si512(_mm512_srai_epi32(bits, 31), magnitude));
    low = _mm512_min_epi32(low, key);
    high = _mm512_max_epi32(high, key);
    special |= _mm512_mask_cmpeq_epi32_mask(m, _mm512_and_si512(bits, exponent), exponent);
  }
  alignas(64) int32_t lows[16], highs[16];
  _mm512_store_si512(lows, low);
  _mm512_store_si512(highs, high);
  *lo = from_ordered_key(*std::min_element(lows, lows + 16));
  *hi = from_ordered_key(*std::max_element(highs, highs + 16));
  *finite = special == 0;
}

// int8_quantize.h's quantize 16 floats at a time: MAXPS and MINPS clamp as its comparisons do
// (they differ only in the sign of a zero, which rounding makes the same integer).
void qconv_quantize_row__avx512vnni(const float* x, int64_t n, float inverse, int32_t zero,
                                    uint8_t* q) {
  const __m512 scale = _mm512_set1_ps(inverse), magic = _mm512_set1_ps(kRoundMagic);
  const __m512 low = _mm512_set1_ps(static_cast<float>(-zero));
  const __m512 high = _mm512_set1_ps(static_cast<float>(kActivationMax - zero));
  const __m512i zero_point = _mm512_set1_epi32(zero);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = first_lanes(n - i);
    __m512 t = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), scale);
    t = _mm512_min_ps(_mm512_max_ps(t, low), high);
    const __m512 rounded = _mm512_sub_ps(_mm512_add_ps(t, magic), magic);
    const __m512i value = _mm512_add_epi32(_mm512_cvtps_epi32(rounded), zero_point);
    _mm512_mask_cvtepi32_storeu_epi8(q + i, m, value);
  }
}

void qconv_ukernel_6x64__avx512vnni(int64_t mr, int64_t rows, int64_t row_stride, int64_t row_bytes,
                                    const uint8_t* const* pixels, const int8_t* weights,
                                    const QconvOutput& output, float* const* out,
                                    int64_t out_offset, int64_t channels) {
  with_tile_rows<6>(mr, [&](auto tile_rows) {
    with_channel_vectors<kNr>(channels, 16, [&](auto vectors) {
      tile<decltype(tile_rows)::value, decltype(vectors)::value>(
          rows, row_stride, row_bytes, pixels, weights, output, out, out_offset, channels);
    });
  });
}

}  // namespace xnorinfer
