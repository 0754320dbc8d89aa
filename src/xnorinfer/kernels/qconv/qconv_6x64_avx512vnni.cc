// AVX-512 VNNI direct int8 convolution: 6 pixels x 64 output channels in 24 zmm accumulators;
// per 4 window bytes, 4 weight vectors and one 32-bit broadcast per pixel feed 24 VPDPBUSD
// (64 multiply-adds each, four times an FMA's), read in place from the quantized image.
// A narrower last block (a 96-channel layer's channels 64-95) runs on fewer vectors.
#include <immintrin.h>

#include <cstring>

#include "xnorinfer/kernels/avx512_lanes.h"
#include "xnorinfer/kernels/qconv/qconv.h"
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
  for (int j = 0; j < NR; ++j) {
    const int64_t left = channels - 16 * j;
    if (left <= 0) break;
    const __mmask16 m = first_lanes(left);
    const __m512i correction = _mm512_maskz_loadu_epi32(m, output.correction + 16 * j);
    const __m512 multiplier = _mm512_maskz_loadu_ps(m, output.multiplier + 16 * j);
    const __m512 bias = _mm512_maskz_loadu_ps(m, output.bias + 16 * j);
    for (int p = 0; p < MR; ++p) {
      const __m512 sum = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[p][j], correction));
      __m512 y = _mm512_add_ps(_mm512_mul_ps(sum, multiplier), bias);
      if (output.relu) y = _mm512_max_ps(_mm512_setzero_ps(), y);  // keeps -0, as v < 0 ? 0 : v
      _mm512_mask_storeu_ps(out[p] + out_offset + 16 * j, m, y);
    }
  }
}

}  // namespace

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
