// Portable direct bf16 convolution: 4 pixels x 16 output channels, VDPBF16PS's arithmetic one
// step at a time (the oracle the vector kernel is tested against, and the path of CPUs without
// AVX-512 BF16).
#include <cmath>
#include <cstring>

#include "xnorinfer/kernels/bfconv/bf16_round.h"
#include "xnorinfer/kernels/bfconv/bfconv.h"

namespace xnorinfer {
namespace {

inline float bf16_at(const uint8_t* p) {
  uint16_t half;
  std::memcpy(&half, p, sizeof(half));
  const uint32_t bits = uint32_t{half} << 16;
  float v;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

// One fused multiply-add, its subnormal result flushed to a zero of its sign.
inline float step(float acc, float a, float w) {
  const float r = std::fma(a, w, acc);
  return std::fabs(r) < 1.17549435e-38f ? std::copysign(0.0f, r) : r;
}

}  // namespace

bool bf16_round_row__scalar(const float* x, int64_t n, uint8_t* dst) {
  uint32_t special = 0;  // exponent bits all ones: infinity or NaN
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof(bits));
    special |= (bits & 0x7F800000u) == 0x7F800000u ? 1u : 0u;
    const uint16_t half = to_bf16(x[i]);
    std::memcpy(dst + 2 * i, &half, sizeof(half));
  }
  return special == 0;
}

void bfconv_ukernel_4x16__scalar(int64_t mr, int64_t rows, int64_t row_stride, int64_t row_bytes,
                                 const uint8_t* const* pixels, const uint8_t* weights,
                                 const float* bias, bool relu, float* const* out,
                                 int64_t out_offset, int64_t channels) {
  constexpr int kNb = 16;
  for (int64_t p = 0; p < mr; ++p) {
    float acc[kNb] = {};
    const uint8_t* w = weights;
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* a = pixels[p] + r * row_stride;
      for (int64_t k = 0; k < row_bytes; k += 4, w += 4 * kNb) {
        const float odd = bf16_at(a + k + 2), even = bf16_at(a + k);
        for (int j = 0; j < kNb; ++j) {
          acc[j] = step(step(acc[j], odd, bf16_at(w + 4 * j + 2)), even, bf16_at(w + 4 * j));
        }
      }
    }
    for (int64_t j = 0; j < channels; ++j) {
      const float v = acc[j] + bias[j];
      out[p][out_offset + j] = relu && v < 0.0f ? 0.0f : v;
    }
  }
}

}  // namespace xnorinfer
