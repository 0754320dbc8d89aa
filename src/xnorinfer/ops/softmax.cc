// Softmax and LogSoftmax over one axis (opset-13 semantics), max-subtracted for range safety.
#include <cmath>

#include "xnorinfer/base/parallel.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {
namespace {

class Softmax final : public Op {
 public:
  Softmax(const OpArgs& args, bool log) : check_(args.node), log_(log) {
    axis_ = args.node.attrs.get_int("axis");
  }

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    check_.dtype(*in[0], DType::kFloat32, "input");
    if (axis_ < 0 || axis_ >= static_cast<int64_t>(in[0]->shape.size())) {
      check_.fail("axis " + std::to_string(axis_) + " is outside input " + to_string(in[0]->shape));
    }
    return {*in[0]};
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    const Shape& s = in[0]->shape();
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < axis_; ++i) outer *= s[i];
    for (size_t i = axis_ + 1; i < s.size(); ++i) inner *= s[i];
    const int64_t n = s[axis_];
    parallel_for(outer * inner, ctx.num_threads, [&](int64_t line, int) {
      const int64_t base = (line / inner) * n * inner + line % inner;
      const float* x = in[0]->f32() + base;
      float* y = out[0]->f32() + base;
      float peak = -INFINITY;
      for (int64_t i = 0; i < n; ++i) peak = std::fmax(peak, x[i * inner]);
      float sum = 0.0f;
      for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i * inner] - peak);
      if (log_) {
        const float log_sum = std::log(sum);
        for (int64_t i = 0; i < n; ++i) y[i * inner] = (x[i * inner] - peak) - log_sum;
      } else {
        for (int64_t i = 0; i < n; ++i) y[i * inner] = std::exp(x[i * inner] - peak) / sum;
      }
    });
  }

 private:
  NodeChecker check_;
  int64_t axis_ = 0;
  bool log_;
};

}  // namespace

std::unique_ptr<Op> create_softmax(const OpArgs& a) { return std::make_unique<Softmax>(a, false); }
std::unique_ptr<Op> create_log_softmax(const OpArgs& a) {
  return std::make_unique<Softmax>(a, true);
}

}  // namespace xnorinfer
