// Portable direct float convolution: 4 pixels x 16 output channels, std::fma per step (the
// oracle the vector kernel is tested against).
#include <cmath>

#include "xnorinfer/kernels/sconv/sconv.h"

namespace xnorinfer {

void sconv_ukernel_4x16__scalar(int64_t mr, int64_t window, const int64_t* offsets,
                                const float* const* pixels, const float* weights, float* const* out,
                                int64_t out_offset, int64_t channels, const float* bias,
                                bool relu) {
  constexpr int kNb = 16;
  for (int64_t p = 0; p < mr; ++p) {
    float acc[kNb] = {};
    for (int64_t k = 0; k < window; ++k) {
      const float a = pixels[p][offsets[k]];
      const float* w = weights + k * kNb;
      for (int j = 0; j < kNb; ++j) acc[j] = std::fma(a, w[j], acc[j]);
    }
    for (int64_t j = 0; j < channels; ++j) {
      float v = bias ? acc[j] + bias[j] : acc[j];
      if (relu) v = v < 0.0f ? 0.0f : v;
      out[p][out_offset + j] = v;
    }
  }
}

}  // namespace xnorinfer
