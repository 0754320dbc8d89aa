// Portable indirect binary convolution: 4 pixels x 8 output channels, 64-bit popcount.
#include "xnorinfer/kernels/bconv/bconv.h"

namespace xnorinfer {
namespace {

constexpr int kNb = 8;

// kMasked: ternary activations, each sign word ANDed with its nonzero mask word.
template <int MR, bool kMasked>
void tile(int64_t taps, int64_t wpt, const Word* const* a, const Word* weights, int32_t* counts,
          int64_t counts_stride, int64_t mask_offset) {
  int32_t acc[MR][kNb] = {};
  for (int64_t t = 0; t < taps; ++t) {
    for (int64_t w = 0; w < wpt; ++w) {
      const Word* wrow = weights + (t * wpt + w) * kNb;
      for (int p = 0; p < MR; ++p) {
        const Word* tap = a[p * taps + t];
        const Word av = tap[w];
        const Word mv = kMasked ? tap[w + mask_offset] : ~Word{0};
        for (int j = 0; j < kNb; ++j) acc[p][j] += __builtin_popcountll((av ^ wrow[j]) & mv);
      }
    }
  }
  for (int p = 0; p < MR; ++p)
    for (int j = 0; j < kNb; ++j) counts[p * counts_stride + j] = acc[p][j];
}

template <bool kMasked>
void dispatch(int64_t mr, int64_t taps, int64_t wpt, const Word* const* a, const Word* weights,
              int32_t* counts, int64_t counts_stride, int64_t mask_offset) {
  switch (mr) {
    case 4: return tile<4, kMasked>(taps, wpt, a, weights, counts, counts_stride, mask_offset);
    case 3: return tile<3, kMasked>(taps, wpt, a, weights, counts, counts_stride, mask_offset);
    case 2: return tile<2, kMasked>(taps, wpt, a, weights, counts, counts_stride, mask_offset);
    default: return tile<1, kMasked>(taps, wpt, a, weights, counts, counts_stride, mask_offset);
  }
}

}  // namespace

void bconv_ukernel_4x8__scalar(int64_t mr, int64_t taps, int64_t wpt, const Word* const* a,
                               const Word* weights, int32_t* counts, int64_t counts_stride) {
  dispatch<false>(mr, taps, wpt, a, weights, counts, counts_stride, 0);
}

void bconv_masked_ukernel_4x8__scalar(int64_t mr, int64_t taps, int64_t wpt, const Word* const* a,
                                      const Word* weights, int32_t* counts, int64_t counts_stride,
                                      int64_t mask_offset) {
  dispatch<true>(mr, taps, wpt, a, weights, counts, counts_stride, mask_offset);
}

}  // namespace xnorinfer
