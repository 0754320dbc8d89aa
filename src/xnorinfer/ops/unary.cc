// Element-wise float ops with per-channel or scalar parameters: ChannelAffine, Relu, PRelu,
// Clip, Sign, Sigmoid, Tanh. Channels are the last axis (NHWC).
#include <algorithm>
#include <cmath>

#include "xnorinfer/base/parallel.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {
namespace {

constexpr int64_t kFloatsPerTask = 16384;

enum class Kind { kAffine, kRelu, kPRelu, kClip, kSign, kSigmoid, kTanh };

class Unary final : public Op {
 public:
  Unary(const OpArgs& args, Kind kind) : check_(args.node), kind_(kind) {
    switch (kind) {
      case Kind::kAffine:
        scale_ = &check_.constant(args, 1, DType::kFloat32, "scale");
        bias_ = &check_.constant(args, 2, DType::kFloat32, "bias");
        break;
      case Kind::kPRelu:
        scale_ = &check_.constant(args, 1, DType::kFloat32, "slope");
        break;
      case Kind::kClip:
        min_ = static_cast<float>(args.node.attrs.get_float("min", -INFINITY));
        max_ = static_cast<float>(args.node.attrs.get_float("max", INFINITY));
        break;
      default:
        break;
    }
  }

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    const TensorInfo& x = *in[0];
    check_.dtype(x, DType::kFloat32, "input");
    const int64_t channels = x.shape.empty() ? 1 : x.shape.back();
    for (const Tensor* p : {scale_, bias_}) {
      if (!p) continue;
      const int64_t n = num_elements(p->shape());
      if (n != channels && !(kind_ == Kind::kPRelu && n == 1)) {
        check_.fail("per-channel parameter has " + std::to_string(n) + " values for " +
                    std::to_string(channels) + " channels (last axis)");
      }
    }
    return {x};
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    const int64_t channels = in[0]->shape().empty() ? 1 : in[0]->shape().back();
    const int64_t rows = in[0]->info.num_rows();
    const int64_t rows_per_task = std::max<int64_t>(1, kFloatsPerTask / channels);
    const int64_t tasks = (rows + rows_per_task - 1) / rows_per_task;
    parallel_for(tasks, ctx.num_threads, [&](int64_t task, int) {
      const int64_t r0 = task * rows_per_task, n = std::min(rows, r0 + rows_per_task) - r0;
      apply(in[0]->f32() + r0 * channels, n, channels, out[0]->f32() + r0 * channels);
    });
  }

 private:
  // `rows` rows of `n` channels; a loop per kind so each vectorizes, over the rows at once
  // where the parameters are not per channel (a 3-channel image's rows are 3 floats: a call
  // per row cost 10x the work).
  void apply(const float* x, int64_t rows, int64_t n, float* y) const {
    const int64_t all = rows * n;
    switch (kind_) {
      case Kind::kAffine: {
        const float* scale = scale_->f32();
        const float* bias = bias_->f32();
        for (int64_t r = 0; r < rows; ++r, x += n, y += n) {
          for (int64_t c = 0; c < n; ++c) y[c] = x[c] * scale[c] + bias[c];
        }
        return;
      }
      case Kind::kRelu:
        for (int64_t i = 0; i < all; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
        return;
      case Kind::kPRelu: {
        const float* slope = scale_->f32();
        if (num_elements(scale_->shape()) == 1) {
          for (int64_t i = 0; i < all; ++i) y[i] = x[i] < 0.0f ? x[i] * slope[0] : x[i];
          return;
        }
        for (int64_t r = 0; r < rows; ++r, x += n, y += n) {
          for (int64_t c = 0; c < n; ++c) y[c] = x[c] < 0.0f ? x[c] * slope[c] : x[c];
        }
        return;
      }
      case Kind::kClip:
        for (int64_t i = 0; i < all; ++i) y[i] = x[i] < min_ ? min_ : (x[i] > max_ ? max_ : x[i]);
        return;
      case Kind::kSign:  // keeps 0, -0 and NaN as ONNX does
        for (int64_t i = 0; i < all; ++i) y[i] = x[i] > 0.0f ? 1.0f : (x[i] < 0.0f ? -1.0f : x[i]);
        return;
      case Kind::kSigmoid:
        for (int64_t i = 0; i < all; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
        return;
      case Kind::kTanh:
        for (int64_t i = 0; i < all; ++i) y[i] = std::tanh(x[i]);
        return;
    }
  }

  NodeChecker check_;
  Kind kind_;
  const Tensor* scale_ = nullptr;
  const Tensor* bias_ = nullptr;
  float min_ = -INFINITY, max_ = INFINITY;
};

}  // namespace

std::unique_ptr<Op> create_channel_affine(const OpArgs& a) {
  return std::make_unique<Unary>(a, Kind::kAffine);
}
std::unique_ptr<Op> create_relu(const OpArgs& a) { return std::make_unique<Unary>(a, Kind::kRelu); }
std::unique_ptr<Op> create_prelu(const OpArgs& a) {
  return std::make_unique<Unary>(a, Kind::kPRelu);
}
std::unique_ptr<Op> create_clip(const OpArgs& a) { return std::make_unique<Unary>(a, Kind::kClip); }
std::unique_ptr<Op> create_sign(const OpArgs& a) { return std::make_unique<Unary>(a, Kind::kSign); }
std::unique_ptr<Op> create_sigmoid(const OpArgs& a) {
  return std::make_unique<Unary>(a, Kind::kSigmoid);
}
std::unique_ptr<Op> create_tanh(const OpArgs& a) { return std::make_unique<Unary>(a, Kind::kTanh); }

}  // namespace xnorinfer
