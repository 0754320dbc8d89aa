// Portable indirect binary convolution: 4 pixels x 8 output channels, 64-bit popcount.
#include "xnorinfer/kernels/bconv/bconv.h"

namespace xnorinfer {
namespace {

constexpr int kNb = 8;

template <int MR>
void tile(int64_t taps, int64_t wpt, const Word* const* a, const Word* weights, int32_t* counts,
          int64_t counts_stride) {
  int32_t acc[MR][kNb] = {};
  for (int64_t t = 0; t < taps; ++t) {
    for (int64_t w = 0; w < wpt; ++w) {
      const Word* wrow = weights + (t * wpt + w) * kNb;
      for (int p = 0; p < MR; ++p) {
        const Word av = a[p * taps + t][w];
        for (int j = 0; j < kNb; ++j) acc[p][j] += __builtin_popcountll(av ^ wrow[j]);
      }
    }
  }
  for (int p = 0; p < MR; ++p)
    for (int j = 0; j < kNb; ++j) counts[p * counts_stride + j] = acc[p][j];
}

}  // namespace

void bconv_ukernel_4x8__scalar(int64_t mr, int64_t taps, int64_t wpt, const Word* const* a,
                               const Word* weights, int32_t* counts, int64_t counts_stride) {
  switch (mr) {
    case 4: return tile<4>(taps, wpt, a, weights, counts, counts_stride);
    case 3: return tile<3>(taps, wpt, a, weights, counts, counts_stride);
    case 2: return tile<2>(taps, wpt, a, weights, counts, counts_stride);
    default: return tile<1>(taps, wpt, a, weights, counts, counts_stride);
  }
}

}  // namespace xnorinfer
