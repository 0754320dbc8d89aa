#include "xnorinfer/ops/conv_geometry.h"

#include <algorithm>
#include <string>

namespace xnorinfer {
namespace {

// Pools have no weights, so nothing else bounds their work per output value.
constexpr int64_t kMaxPoolTaps = 4096;

int64_t out_size(int64_t in, int64_t pad_begin, int64_t pad_end, int64_t k, int64_t stride,
                 int64_t dilation, bool ceil_mode) {
  const int64_t span = dilation * (k - 1) + 1;
  const int64_t room = in + pad_begin + pad_end - span;
  if (room < 0) return 0;
  int64_t out = (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
  // ONNX/PyTorch rule: with ceil_mode the last window must start inside the input or left pad.
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

}  // namespace

ConvGeometry ConvGeometry::parse(const NodeDef& node) { return parse(node.attrs, ""); }

ConvGeometry ConvGeometry::parse(const AttrMap& a, const std::string& prefix) {
  ConvGeometry g;
  // Counts and bounds were checked against the op schema (op_schema.cc) when the node was added.
  const auto kernel = a.get_ints(prefix + "kernel_shape");
  g.kh = kernel[0];
  g.kw = kernel[1];
  if (a.has(prefix + "strides")) {
    const auto s = a.get_ints(prefix + "strides");
    g.stride_h = s[0];
    g.stride_w = s[1];
  }
  if (a.has(prefix + "dilations")) {
    const auto d = a.get_ints(prefix + "dilations");
    g.dilation_h = d[0];
    g.dilation_w = d[1];
  }
  if (a.has(prefix + "pads")) {
    const auto p = a.get_ints(prefix + "pads");
    g.pad_top = p[0];
    g.pad_left = p[1];
    g.pad_bottom = p[2];
    g.pad_right = p[3];
  }
  g.ceil_mode = a.get_int(prefix + "ceil_mode", 0) != 0;
  return g;
}

int64_t ConvGeometry::out_h(int64_t in_h) const {
  return out_size(in_h, pad_top, pad_bottom, kh, stride_h, dilation_h, ceil_mode);
}

int64_t ConvGeometry::out_w(int64_t in_w) const {
  return out_size(in_w, pad_left, pad_right, kw, stride_w, dilation_w, ceil_mode);
}

int64_t ConvGeometry::column_run(int64_t ox, int64_t in_w) const {
  const auto inside = [&](int64_t column) {
    const int64_t x0 = column * stride_w - pad_left;
    return x0 >= 0 && x0 + (kw - 1) * dilation_w < in_w;
  };
  if (!inside(ox)) return 1;
  const int64_t columns = out_w(in_w);
  int64_t run = 1;
  while (ox + run < columns && inside(ox + run)) ++run;
  return run;
}

void ConvGeometry::check_input(const NodeChecker& check, int64_t in_h, int64_t in_w) const {
  if (out_h(in_h) < 1 || out_w(in_w) < 1) {
    check.fail("a " + std::to_string(kh) + "x" + std::to_string(kw) + " window (dilation " +
               std::to_string(dilation_h) + "x" + std::to_string(dilation_w) +
               ") does not fit a padded " + std::to_string(in_h) + "x" + std::to_string(in_w) +
               " input");
  }
}

TensorInfo conv_output_info(const NodeChecker& check, const ConvGeometry& geom, int64_t in_channels,
                            int64_t out_channels, const TensorInfo& x) {
  check.dtype(x, DType::kFloat32, "input");
  check.rank(x, 4, "input");
  if (x.shape[3] != in_channels) {
    check.fail("input has " + std::to_string(x.shape[3]) + " channels, expected " +
               std::to_string(in_channels));
  }
  geom.check_input(check, x.shape[1], x.shape[2]);
  return {DType::kFloat32,
          {x.shape[0], geom.out_h(x.shape[1]), geom.out_w(x.shape[2]), out_channels}};
}

void check_pool_window(const NodeChecker& check, const ConvGeometry& pool) {
  if (pool.kh * pool.kw > kMaxPoolTaps) {
    check.fail("windows over " + std::to_string(kMaxPoolTaps) + " taps are not supported");
  }
  // ONNX's rule: a window may not lie wholly in the padding.
  if (std::max(pool.pad_top, pool.pad_bottom) >= pool.kh ||
      std::max(pool.pad_left, pool.pad_right) >= pool.kw) {
    check.fail("pads must be smaller than the kernel");
  }
}

}  // namespace xnorinfer
