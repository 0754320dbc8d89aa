// Convolution and pooling window geometry (NHWC), parsed once from node attributes.
#pragma once

#include <cstdint>
#include <string>

#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {

struct ConvGeometry {
  int64_t kh = 1, kw = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool ceil_mode = false;  // pooling only

  // Reads kernel_shape, strides, dilations (optional, default 1), pads (optional, default 0)
  // and ceil_mode (optional), as checked against the op schema.
  static ConvGeometry parse(const NodeDef& node);
  // The same attributes under a prefix ("pool_" for a pooling fused into a conv).
  static ConvGeometry parse(const AttrMap& attrs, const std::string& prefix);

  int64_t out_h(int64_t in_h) const;
  int64_t out_w(int64_t in_w) const;
  // Output columns from ox on whose taps sit at the same offsets in an input `in_w` wide, one
  // stride apart: the run of columns whose windows lie within the input (no padded column), or
  // ox alone. A pooling kernel takes such a run in one call.
  int64_t column_run(int64_t ox, int64_t in_w) const;
  // Throws unless the window fits the input at least once.
  void check_input(const NodeChecker& check, int64_t in_h, int64_t in_w) const;
};

// The float NHWC output of a conv with this geometry on float NHWC input `x`; throws through
// `check` when `x` does not fit.
TensorInfo conv_output_info(const NodeChecker& check, const ConvGeometry& geom, int64_t in_channels,
                            int64_t out_channels, const TensorInfo& x);

// ONNX's pooling rules plus the engine's bound on taps; throws through `check`.
void check_pool_window(const NodeChecker& check, const ConvGeometry& pool);

}  // namespace xnorinfer
