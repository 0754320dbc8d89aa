// Portable direct int8 convolution: 4 pixels x 16 output channels in int32 (the oracle the
// vector kernel is tested against, and the path of CPUs without AVX-512 VNNI).
#include "xnorinfer/kernels/qconv/qconv.h"

namespace xnorinfer {

void qconv_ukernel_4x16__scalar(int64_t mr, int64_t rows, int64_t row_stride, int64_t row_bytes,
                                const uint8_t* const* pixels, const int8_t* weights,
                                const QconvOutput& output, float* const* out, int64_t out_offset,
                                int64_t channels) {
  constexpr int kNb = 16;
  for (int64_t p = 0; p < mr; ++p) {
    int32_t acc[kNb] = {};
    const int8_t* w = weights;
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* a = pixels[p] + r * row_stride;
      for (int64_t k = 0; k < row_bytes; k += 4, w += 4 * kNb) {
        for (int j = 0; j < kNb; ++j) {
          for (int b = 0; b < 4; ++b) acc[j] += int32_t{a[k + b]} * int32_t{w[4 * j + b]};
        }
      }
    }
    for (int64_t j = 0; j < channels; ++j) {
      const float product =
          static_cast<float>(acc[j] - output.correction[j]) * output.multiplier[j];
      const float v = product + output.bias[j];
      out[p][out_offset + j] = output.relu && v < 0.0f ? 0.0f : v;
    }
  }
}

}  // namespace xnorinfer
