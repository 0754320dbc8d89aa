// Element-wise float ops with per-channel or scalar parameters: ChannelAffine, Relu, PRelu,
// Clip, Sign, Sigmoid, Tanh. Channels are the last axis (NHWC).
#include <algorithm>
#include <cmath>

#include "xnorinfer/base/parallel.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {
namespace {

constexpr int64_t kElemsPerTask = 1 << 14;

enum class Kind { kAffine, kRelu, kPRelu, kClip, kSign, kSigmoid, kTanh };

class Unary final : public Op {
 public:
  Unary(const OpArgs& args, Kind kind) : check_(args.node), kind_(kind) {
    check_.output_count(1, 1);
    switch (kind) {
      case Kind::kAffine:
        check_.input_count(3, 3);
        scale_ = &check_.constant(args, 1, DType::kFloat32, "scale");
        bias_ = &check_.constant(args, 2, DType::kFloat32, "bias");
        break;
      case Kind::kPRelu:
        check_.input_count(2, 2);
        scale_ = &check_.constant(args, 1, DType::kFloat32, "slope");
        break;
      case Kind::kClip:
        check_.input_count(1, 1);
        min_ = static_cast<float>(args.node.attrs.get_float("min", -INFINITY));
        max_ = static_cast<float>(args.node.attrs.get_float("max", INFINITY));
        break;
      default:
        check_.input_count(1, 1);
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
    const int64_t total = num_elements(in[0]->shape());
    const int64_t channels = in[0]->shape().empty() ? 1 : in[0]->shape().back();
    const float* x = in[0]->f32();
    float* y = out[0]->f32();
    const int64_t tasks = (total + kElemsPerTask - 1) / kElemsPerTask;
    parallel_for(tasks, ctx.num_threads, [&](int64_t task, int) {
      const int64_t end = std::min(total, (task + 1) * kElemsPerTask);
      for (int64_t i = task * kElemsPerTask; i < end; ++i) y[i] = apply(x[i], i % channels);
    });
  }

 private:
  float apply(float v, int64_t c) const {
    switch (kind_) {
      case Kind::kAffine:
        return v * scale_->f32()[c] + bias_->f32()[c];
      case Kind::kRelu:
        return v < 0.0f ? 0.0f : v;
      case Kind::kPRelu: {
        const float slope = num_elements(scale_->shape()) == 1 ? scale_->f32()[0] : scale_->f32()[c];
        return v < 0.0f ? v * slope : v;
      }
      case Kind::kClip:
        return v < min_ ? min_ : (v > max_ ? max_ : v);
      case Kind::kSign:
        return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : v);  // keeps 0, -0 and NaN as ONNX does
      case Kind::kSigmoid:
        return 1.0f / (1.0f + std::exp(-v));
      case Kind::kTanh:
        return std::tanh(v);
    }
    return v;
  }

  NodeChecker check_;
  Kind kind_;
  const Tensor* scale_ = nullptr;
  const Tensor* bias_ = nullptr;
  float min_ = -INFINITY, max_ = INFINITY;
};

}  // namespace

std::unique_ptr<Op> create_channel_affine(const OpArgs& a) { return std::make_unique<Unary>(a, Kind::kAffine); }
std::unique_ptr<Op> create_relu(const OpArgs& a) { return std::make_unique<Unary>(a, Kind::kRelu); }
std::unique_ptr<Op> create_prelu(const OpArgs& a) { return std::make_unique<Unary>(a, Kind::kPRelu); }
std::unique_ptr<Op> create_clip(const OpArgs& a) { return std::make_unique<Unary>(a, Kind::kClip); }
std::unique_ptr<Op> create_sign(const OpArgs& a) { return std::make_unique<Unary>(a, Kind::kSign); }
std::unique_ptr<Op> create_sigmoid(const OpArgs& a) { return std::make_unique<Unary>(a, Kind::kSigmoid); }
std::unique_ptr<Op> create_tanh(const OpArgs& a) { return std::make_unique<Unary>(a, Kind::kTanh); }

}  // namespace xnorinfer
