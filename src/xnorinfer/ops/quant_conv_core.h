// Int8 convolution for the opt-in reduced-precision first layer (Conv2d precision="int8"),
// where a network's float stem costs more than all its binary layers together.
//
// Activations: per image, asymmetric uint8 with scale s = (max(x, 0) - min(x, 0)) / 255 and
// zero point z (0.0 is exactly z, so zero padding stays exact), written once into a padded NHWC
// copy whose border holds z: every window is then whole, read in place by the qconv kernels.
// Weights: per output channel, symmetric int8 with scale max|w| / 127.
// y[o] = float(sum(q_x * q_w) - z * sum(q_w)) * (s * s_w[o]); the sums are exact int32, so every
// ISA path gives the same floats.
#pragma once

#include <cstdint>
#include <vector>

#include "xnorinfer/base/aligned_buffer.h"
#include "xnorinfer/base/tensor.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/conv_core.h"
#include "xnorinfer/ops/conv_geometry.h"
#include "xnorinfer/ops/op.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {

class QuantConvCore final : public ConvCore {
 public:
  // weights_ohwi: O x KH x KW x C floats (one group, no horizontal dilation); bias: O floats
  // added by the kernels, or nullptr.
  QuantConvCore(const NodeChecker& check, const ConvGeometry& geom, int64_t in_channels,
                int64_t out_channels, const float* weights_ohwi, const float* bias, Isa isa);

  TensorInfo infer(const NodeChecker& check, const TensorInfo& x) const override;
  size_t scratch_bytes() const override;
  size_t shared_scratch_bytes(const TensorInfo& x) const override;
  // Quantizes every image into the shared scratch. Throws InvalidArgument through `check` when
  // an image holds NaN or infinity.
  void prepare(const NodeChecker& check, const Tensor& x, const RunContext& ctx) const override;
  void compute(const Tensor& x, int64_t n, int64_t p0, int64_t count, int64_t out_w, float* out,
               const RunContext& ctx, uint8_t* scratch) const override;
  int64_t out_channels() const override { return out_channels_; }
  bool adds_bias() const override { return true; }

 private:
  struct ImageQuantization {
    float scale;
    float inverse;
    int32_t zero;
    int32_t finite;
  };
  struct PaddedLayout {
    int64_t height, width, image_bytes;
  };

  PaddedLayout padded(const Shape& x) const;

  ConvGeometry geom_;
  int64_t in_channels_, out_channels_;
  int64_t row_bytes_;  // a window row's kw * C bytes, rounded up to whole 32-bit steps
  QconvKernel qconv_;
  AlignedBuffer panels_;  // per block of qconv_.nb channels: kh * row_bytes_ * nb weight bytes
  int64_t panel_bytes_;
  std::vector<float> weight_scale_;
  std::vector<int32_t> weight_sum_;
  std::vector<float> bias_;
};

}  // namespace xnorinfer
