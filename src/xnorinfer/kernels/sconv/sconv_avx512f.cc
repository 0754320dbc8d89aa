// AVX-512 direct float convolution, read in place from the input (no im2col copy), in 24 zmm
// accumulators: 6 pixels x 64 output channels (per window float, 4 weight vectors and one
// broadcast per pixel feed 24 FMAs) or 8 pixels x 48 channels (3 vectors, 8 broadcasts). The
// op takes the one that pads its channels least: a 96-channel layer (AlexNet's conv1) as two
// 48-channel blocks runs 5-9% faster than as 64 + 32, whose second block has 12 accumulators
// (in a harness over conv1's rows). A narrower last block runs on fewer vectors.
#include <immintrin.h>

#include <cmath>

#include "xnorinfer/kernels/avx512_lanes.h"
#include "xnorinfer/kernels/sconv/sconv.h"
#include "xnorinfer/kernels/tile_rows.h"

namespace xnorinfer {
namespace {

// MR pixels x NR zmm (16 output channels each) of a block of NB channels.
template <int NB, int MR, int NR>
void tile(int64_t window, const int64_t* offsets, const float* const* pixels, const float* weights,
          float* const* out, int64_t out_offset, int64_t channels, const float* bias, bool relu) {
  __m512 acc[MR][NR];
  for (int p = 0; p < MR; ++p)
    for (int j = 0; j < NR; ++j) acc[p][j] = _mm512_setzero_ps();
  const float* ap[MR];
  for (int p = 0; p < MR; ++p) ap[p] = pixels[p];
  // Two window floats per loop step: the loop's own instructions are a tenth of a step's, and
  // halving them made the stem's tiles 3% faster (alternated in one process).
#pragma GCC unroll 2
  for (int64_t k = 0; k < window; ++k, weights += NB) {
    __m512 wv[NR];
    for (int j = 0; j < NR; ++j) wv[j] = _mm512_load_ps(weights + 16 * j);
    const int64_t offset = offsets[k];
    for (int p = 0; p < MR; ++p) {
      const __m512 av = _mm512_set1_ps(ap[p][offset]);
      for (int j = 0; j < NR; ++j) acc[p][j] = _mm512_fmadd_ps(av, wv[j], acc[p][j]);
    }
  }
  // Unrolled and branch-free, so that the accumulators stay in registers (with a run-time loop
  // and branches, GCC copied all 24 to the stack first). Without a bias, + 0 changes nothing:
  // a sum that starts at +0 is never -0. The relu is max(floor, v) with floor 0 (max with 0
  // as the first operand returns v when v is NaN or -0, as the contract says) or -inf.
  const __m512 floor = relu ? _mm512_setzero_ps() : _mm512_set1_ps(-INFINITY);
  float* rows[MR];
  for (int p = 0; p < MR; ++p) rows[p] = out[p] + out_offset;
#pragma GCC unroll 4
  for (int j = 0; j < NR; ++j) {
    const __mmask16 m = first_lanes(channels - 16 * j);
    const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + 16 * j) : _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int p = 0; p < MR; ++p) {
      _mm512_mask_storeu_ps(rows[p] + 16 * j, m, _mm512_max_ps(floor, _mm512_add_ps(acc[p][j], b)));
    }
  }
}

// A call of up to MR pixels and NB channels.
template <int MR, int NB>
void call(int64_t mr, int64_t window, const int64_t* offsets, const float* const* pixels,
          const float* weights, float* const* out, int64_t out_offset, int64_t channels,
          const float* bias, bool relu) {
  with_tile_rows<MR>(mr, [&](auto rows) {
    with_channel_vectors<NB / 16>(channels, 16, [&](auto vectors) {
      tile<NB, decltype(rows)::value, decltype(vectors)::value>(
          window, offsets, pixels, weights, out, out_offset, channels, bias, relu);
    });
  });
}

}  // namespace

void sconv_ukernel_6x64__avx512f(int64_t mr, int64_t window, const int64_t* offsets,
                                 const float* const* pixels, const float* weights,
                                 float* const* out, int64_t out_offset, int64_t channels,
                                 const float* bias, bool relu) {
  call<6, 64>(mr, window, offsets, pixels, weights, out, out_offset, channels, bias, relu);
}

void sconv_ukernel_8x48__avx512f(int64_t mr, int64_t window, const int64_t* offsets,
                                 const float* const* pixels, const float* weights,
                                 float* const* out, int64_t out_offset, int64_t channels,
                                 const float* bias, bool relu) {
  call<8, 48>(mr, window, offsets, pixels, weights, out, out_offset, channels, bias, relu);
}

}  // namespace xnorinfer
