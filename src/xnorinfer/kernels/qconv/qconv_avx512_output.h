// The dequantization of qconv.h's contract for the AVX-512 int8 kernels (VNNI and AMX), one
// vector of 16 channels at a time. Include only from sources built with AVX-512 flags;
// internal linkage, as each includer has flags of its own.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "xnorinfer/kernels/avx512_lanes.h"
#include "xnorinfer/kernels/qconv/qconv.h"

namespace xnorinfer {
namespace {

// Channels [16 j, 16 j + 16) of a block (those below `channels`): their correction, multiplier
// and bias, loaded once for every pixel.
class DequantizedVector {
 public:
  DequantizedVector(const QconvOutput& output, int64_t channels, int j)
      : mask_(first_lanes(channels - 16 * j)),
        correction_(_mm512_maskz_loadu_epi32(mask_, output.correction + 16 * j)),
        multiplier_(_mm512_maskz_loadu_ps(mask_, output.multiplier + 16 * j)),
        bias_(_mm512_maskz_loadu_ps(mask_, output.bias + 16 * j)),
        relu_(output.relu) {}

  // float(sum - correction) * multiplier + bias (a multiply, then an add), then the relu as
  // max(0, y), which keeps -0 as v < 0 ? 0 : v does; stored to `to`, the vector's channels only.
  void store(__m512i sum, float* to) const {
    const __m512 exact = _mm512_cvtepi32_ps(_mm512_sub_epi32(sum, correction_));
    __m512 y = _mm512_add_ps(_mm512_mul_ps(exact, multiplier_), bias_);
    if (relu_) y = _mm512_max_ps(_mm512_setzero_ps(), y);
    _mm512_mask_storeu_ps(to, mask_, y);
  }

 private:
  __mmask16 mask_;
  __m512i correction_;
  __m512 multiplier_, bias_;
  bool relu_;
};

}  // namespace
}  // namespace xnorinfer
