// Portable binary convolution: 4 pixels x 8 output channels, 64-bit lanes and popcount.
#include "xnorinfer/kernels/bconv/bconv.h"
#include "xnorinfer/kernels/tile_rows.h"

namespace xnorinfer {
namespace {

constexpr int kNb = 8;

// kMasked: ternary activations, each sign word ANDed with its nonzero mask word.
template <int MR, bool kMasked>
void tile(int64_t taps, const BconvTap* tap_list, int64_t lanes, const Word* const* pixels,
          const Word* weights, int32_t* counts, int64_t counts_stride,
          const BconvFloatOutput* to_float, int64_t mask_offset) {
  int32_t acc[MR][kNb] = {};
  for (int64_t i = 0; i < taps; ++i) {
    const Word* wrows = weights + tap_list[i].w_row * lanes * kNb;
    const Word* tap[MR];
    for (int p = 0; p < MR; ++p) tap[p] = pixels[p] + tap_list[i].a_offset;
    for (int64_t k = 0; k < lanes; ++k) {
      const Word* wrow = wrows + k * kNb;
      for (int p = 0; p < MR; ++p) {
        const Word av = tap[p][k];
        const Word mv = kMasked ? tap[p][k + mask_offset] : ~Word{0};
        for (int j = 0; j < kNb; ++j) acc[p][j] += __builtin_popcountll((av ^ wrow[j]) & mv);
      }
    }
  }
  if (to_float) return bconv_counts_to_float(MR, &acc[0][0], kNb, *to_float);
  for (int p = 0; p < MR; ++p)
    for (int j = 0; j < kNb; ++j) counts[p * counts_stride + j] = acc[p][j];
}

template <bool kMasked>
void dispatch(int64_t mr, int64_t taps, const BconvTap* tap_list, int64_t lanes,
              const Word* const* pixels, const void* weights, int32_t* counts,
              int64_t counts_stride, const BconvFloatOutput* f, int64_t mask_offset) {
  const Word* w = static_cast<const Word*>(weights);
  with_tile_rows<4>(mr, [&](auto rows) {
    tile<decltype(rows)::value, kMasked>(taps, tap_list, lanes, pixels, w, counts, counts_stride, f,
                                         mask_offset);
  });
}

}  // namespace

void bconv_ukernel_4x8__scalar(int64_t mr, int64_t taps, const BconvTap* tap_list, int64_t lanes,
                               const Word* const* pixels, const void* weights, int32_t* counts,
                               int64_t counts_stride, const BconvFloatOutput* to_float) {
  dispatch<false>(mr, taps, tap_list, lanes, pixels, weights, counts, counts_stride, to_float, 0);
}

void bconv_masked_ukernel_4x8__scalar(int64_t mr, int64_t taps, const BconvTap* tap_list,
                                      int64_t lanes, const Word* const* pixels, const void* weights,
                                      int32_t* counts, int64_t counts_stride,
                                      const BconvFloatOutput* to_float, int64_t mask_offset) {
  dispatch<true>(mr, taps, tap_list, lanes, pixels, weights, counts, counts_stride, to_float,
                 mask_offset);
}

}  // namespace xnorinfer
