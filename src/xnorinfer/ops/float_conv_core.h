// Float convolution shared by Conv2d and BwnConv2d: NHWC input, im2col tiles through the float
// GEMM kernel, weights packed once at creation into each group's GEMM panels. Layers with few
// input channels (RGB stems) read their windows in place through the direct kernels
// (kernels/sconv) where the ISA has one: the same rounding, without the im2col copy.
#pragma once

#include <cstdint>
#include <vector>


#include "xnorinfer/base/tensor.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/float_weights.h"
#include "xnorinfer/ops/conv_geometry.h"
#include "xnorinfer/ops/conv_taps.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {

class FloatConvCore {
 public:
  // weights_ohwi: O x KH x KW x (C/group) floats.
  FloatConvCore(const NodeChecker& check, const ConvGeometry& geom, int64_t group,
                int64_t in_channels, int64_t out_channels, const float* weights_ohwi, Isa isa);

  // Output info for a float NHWC input; throws through `check` when it does not fit.
  TensorInfo infer(const NodeChecker& check, const TensorInfo& x) const;
  size_t scratch_bytes() const;

  // y = conv(x) without bias; `epilogue(y_row, pixel_count)` is then called on each finished
  // tile of output rows (pixel_count rows of out_channels floats).
  template <typename Epilogue>
  void run(const Tensor& x, Tensor& y, const RunContext& ctx, const Epilogue& epilogue) const;

  int64_t out_channels() const { return out_channels_; }

 private:
  void run_tile(const Tensor& x, Tensor& y, int64_t n, int64_t p0, int64_t count,
                uint8_t* scratch) const;
  void run_direct_tile(const Tensor& x, Tensor& y, int64_t n, int64_t p0, int64_t count,
                       uint8_t* scratch) const;

  ConvGeometry geom_;
  int64_t group_, in_channels_, out_channels_, k_per_group_;
  bool direct_;  // 1x1, stride 1, no padding, one group: the input is already the GEMM operand
  SgemmKernel sgemm_;
  std::vector<PackedFloatWeights> weights_;  // one per group
  bool windows_in_place_ = false;  // through the sconv kernel, with its own weight panels
  SconvKernel sconv_{};
  PackedFloatWeights sconv_weights_;
};

}  // namespace xnorinfer

#include "xnorinfer/ops/float_conv_core_run.h"
