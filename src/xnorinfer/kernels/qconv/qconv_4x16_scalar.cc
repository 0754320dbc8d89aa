// Portable direct int8 convolution: 4 pixels x 16 output channels in int32 (the oracle the
// vector kernel is tested against, and the path of CPUs without AVX-512 VNNI).
#include <algorithm>
#include <cstring>

#include "xnorinfer/kernels/qconv/int8_quantize.h"
#include "xnorinfer/kernels/qconv/qconv.h"

namespace xnorinfer {

void qconv_range__scalar(const float* x, int64_t n, float* lo, float* hi, bool* finite) {
  int32_t low = 0, high = 0;  // the keys of +0.0
  uint32_t special = 0;       // exponent bits all ones: infinity or NaN
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof(bits));
    const int32_t key = ordered_key(bits);
    low = std::min(low, key);
    high = std::max(high, key);
    special |= (bits & 0x7F800000u) == 0x7F800000u ? 1u : 0u;
  }
  *lo = from_ordered_key(low);
  *hi = from_ordered_key(high);
  *finite = special == 0;
}

void qconv_quantize_row__scalar(const float* x, int64_t n, float inverse, int32_t zero,
                                uint8_t* q) {
  for (int64_t i = 0; i < n; ++i) q[i] = quantize(x[i], inverse, zero);
}

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
