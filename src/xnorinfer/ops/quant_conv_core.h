// Int8 and bf16 convolution for the opt-in reduced-precision layers (Conv2d precision "int8" or
// "bf16"): the first layer, where a network's float stem costs more than all its binary layers
// together, and (bf16) the other float convs.
// The input is converted once into a padded NHWC copy whose border holds the converted 0.0, so
// every window is whole and read in place by the kernels (qconv, bfconv).
//
// int8. Activations: per image, asymmetric uint8 with scale s = (max(x, 0) - min(x, 0)) / 255 and
// zero point z (0.0 is exactly z, so zero padding stays exact). Weights: per output channel,
// symmetric int8 with scale max|w| / 127. y[o] = float(sum(q_x * q_w) - z * sum(q_w)) *
// (s * s_w[o]) + bias[o]; the sums are exact int32.
// bf16. Activations and weights rounded to bf16 (to nearest even, subnormals to zero), summed
// in float32 as VDPBF16PS does (bfconv.h), + bias[o].
// Either way every ISA path gives the same floats.
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
  enum class Precision { kInt8, kBf16 };

  // weights_ohwi: O x KH x KW x C floats (one group, no horizontal dilation); bias: O floats
  // added by the kernels, or nullptr; relu: the op's relu, applied by the kernels too.
  QuantConvCore(const NodeChecker& check, Precision precision, const ConvGeometry& geom,
                int64_t in_channels, int64_t out_channels, const float* weights_ohwi,
                const float* bias, bool relu, Isa isa);

  TensorInfo infer(const NodeChecker& check, const TensorInfo& x) const override;
  size_t scratch_bytes() const override;
  size_t shared_scratch_bytes(const TensorInfo& x) const override;
  // Converts every image into the shared scratch. Throws InvalidArgument through `check` when
  // an image holds NaN or infinity.
  void prepare(const NodeChecker& check, const Tensor& x, const RunContext& ctx) const override;
  void compute(const Tensor& x, int64_t n, int64_t p0, int64_t count, int64_t out_w, float* out,
               OutputChannels channels, const RunContext& ctx, uint8_t* scratch) const override;
  int64_t channel_block() const override;
  int64_t out_channels() const override { return out_channels_; }
  bool adds_bias() const override { return true; }
  bool applies_relu() const override { return relu_; }

 private:
  struct ImageQuantization {
    float scale;
    float inverse;
    int32_t zero;
  };
  // One chunk's part of an image's range: chunks are scanned in parallel, then combined.
  struct RangePart {
    float lo, hi;
    bool finite;
  };
  static constexpr int64_t kRangeChunks = 16;
  struct PaddedLayout {
    int64_t height, width, image_bytes;
  };

  PaddedLayout padded(const Shape& x) const;
  // Shared scratch before the images: per image its quantization and its range parts.
  static int64_t header_bytes(int64_t batch);
  void pack_int8_weights(const NodeChecker& check, const float* weights_ohwi);
  // int8: measures each image's range into params (refusing one that is not finite).
  void quantize_images(const NodeChecker& check, const Tensor& x, const RunContext& ctx,
                       ImageQuantization* params) const;
  // Padded row py of image n (py counts padded rows) from the float input, converted (int8 with
  // q); whether its floats were finite (bf16; int8 checks them with the range).
  bool convert_row(const Tensor& x, int64_t n, int64_t py, const ImageQuantization& q,
                   uint8_t* dst) const;
  [[noreturn]] void refuse_image(const NodeChecker& check, int64_t n) const;

  Precision precision_;
  ConvGeometry geom_;
  int64_t in_channels_, out_channels_;
  int64_t element_bytes_;  // 1 (int8) or 2 (bf16)
  int64_t row_bytes_;  // a window row's kw * C elements' bytes, rounded up to whole 32-bit steps
  QconvKernel qconv_;
  BfconvKernel bfconv_;
  int64_t mr_, nb_;       // of the kernel in use
  AlignedBuffer panels_;  // per block of nb_ channels: kh * row_bytes_ * nb_ weight bytes
  int64_t panel_bytes_;
  std::vector<float> weight_scale_;
  std::vector<int32_t> weight_sum_;
  std::vector<float> bias_;
  bool relu_;
};

}  // namespace xnorinfer
