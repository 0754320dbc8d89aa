// Float convolution shared by Conv2d and BwnConv2d: NHWC input, im2col tiles through the float
// GEMM kernel, weights packed once at creation into each group's GEMM panels. Layers with few
// input channels (RGB stems) read their windows in place through the direct kernels
// (kernels/sconv) where the ISA has one, from a zero-padded copy of the input: the same
// rounding, without the im2col copy. A stem can also take the network's NCHW image as it is
// (`input_nchw`): the padded copy interleaves its planes, so no Transpose runs before it.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "xnorinfer/base/tensor.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/conv_core.h"
#include "xnorinfer/ops/conv_geometry.h"
#include "xnorinfer/ops/float_weights.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {

class FloatConvCore final : public ConvCore {
 public:
  // weights_ohwi: O x KH x KW x (C/group) floats. `bias` (or nullptr) and `relu` are the op's
  // epilogue, which the kernels apply in registers (see adds_bias, applies_relu). With
  // `input_nchw` the input is [N, C, H, W] with C <= kMaxInterleavedPlanes, copied NHWC (and
  // padded, on the direct path) once per run.
  FloatConvCore(const NodeChecker& check, const ConvGeometry& geom, int64_t group,
                int64_t in_channels, int64_t out_channels, const float* weights_ohwi, Isa isa,
                const float* bias = nullptr, bool relu = false, bool input_nchw = false);

  TensorInfo infer(const NodeChecker& check, const TensorInfo& x) const override;
  size_t scratch_bytes() const override;
  size_t shared_scratch_bytes(const TensorInfo& x) const override;
  // The direct path copies the input, zero-padded, into the shared scratch, with the offsets of
  // a window's floats; an NCHW input is copied NHWC there on the other paths.
  void prepare(const NodeChecker& check, const Tensor& x, const RunContext& ctx) const override;
  void compute(const Tensor& x, int64_t n, int64_t p0, int64_t count, int64_t out_w, float* out,
               OutputChannels channels, const RunContext& ctx, uint8_t* scratch) const override;
  int64_t channel_block() const override;
  int64_t out_channels() const override { return out_channels_; }
  bool adds_bias() const override { return fused_bias_ != nullptr; }
  bool applies_relu() const override { return fused_relu_; }

 private:
  struct PaddedLayout {
    int64_t height, width, image_floats;
  };

  // The shared scratch of the direct path: the padded images, then the window's offset table.
  struct DirectInput {
    PaddedLayout layout;
    float* images;
    int64_t* offsets;  // per window float: where it is from the window's first
    size_t size;
  };

  using NhwcExtents = std::array<int64_t, 4>;  // N, H, W, C

  // The input as NHWC: x itself, or (input_nchw_) its copy in the shared scratch.
  struct NhwcInput {
    const float* data;
    NhwcExtents shape;
  };

  NhwcExtents nhwc_extents(const Shape& x) const;
  NhwcInput nhwc_input(const Tensor& x, const RunContext& ctx) const;
  // Image n's input row iy as NHWC floats at dst (x is NCHW).
  void interleave_row(const Tensor& x, int64_t n, int64_t iy, float* dst) const;
  PaddedLayout padded(const NhwcExtents& x) const;
  DirectInput direct_input(const NhwcExtents& x, uint8_t* shared) const;
  void compute_direct(int64_t n, int64_t p0, int64_t count, int64_t out_w, const NhwcExtents& xs,
                      float* out, OutputChannels channels, const RunContext& ctx,
                      uint8_t* scratch) const;

  ConvGeometry geom_;
  int64_t group_, in_channels_, out_channels_, k_per_group_;
  bool direct_;  // 1x1, stride 1, no padding, one group: the input is already the GEMM operand
  bool input_nchw_;
  InterleaveFn interleave_;
  SgemmKernel sgemm_;
  std::vector<PackedFloatWeights> weights_;  // one per group
  bool windows_in_place_ = false;            // through the sconv kernel, with its own weight panels
  SconvKernel sconv_{};
  PackedFloatWeights sconv_weights_;
  const float* fused_bias_ = nullptr;  // the op's epilogue, in the kernels
  bool fused_relu_ = false;
};

}  // namespace xnorinfer
