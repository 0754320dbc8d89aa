// BinarizePack: float [..., C] -> bits [..., C], optionally with a per-channel offset added
// before the sign test (ReActNet's RSign) and the XNOR-Net A map (mean |x| over channels).
// With output "ternary" it also writes the nonzero plane, so ONNX's Sign(0) = 0 stays exact.
// With a per-channel scale and bias the packed value is x * scale + bias: a ChannelAffine the
// converter fused (a BatchNorm between a pool or relu and a Sign), whose float tensor is then
// never written.
#include <algorithm>
#include <string>
#include <utility>

#include "xnorinfer/base/errors.h"
#include "xnorinfer/base/parallel.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {
namespace {

constexpr int64_t kRowsPerTask = 64;

class BinarizePack final : public Op {
 public:
  explicit BinarizePack(const OpArgs& args) : check_(args.node), kernel_(select_bitpack(args.isa)) {
    with_abs_mean_ = args.node.outputs.size() == 2 && !args.node.outputs[1].empty();
    const std::string output = args.node.attrs.get_string("output", "bits");
    if (output != "bits" && output != "ternary") check_.fail("output must be 'bits' or 'ternary'");
    ternary_ = output == "ternary";
    if (check_.has_input(1)) {
      offset_ = &check_.constant(args, 1, DType::kFloat32, "offset");
    }
    if (check_.has_input(2) != check_.has_input(3)) check_.fail("scale and bias come together");
    if (check_.has_input(2)) {
      scale_ = &check_.constant(args, 2, DType::kFloat32, "scale");
      bias_ = &check_.constant(args, 3, DType::kFloat32, "bias");
    }
  }

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    const TensorInfo& x = *in[0];
    check_.dtype(x, DType::kFloat32, "input");
    if (x.shape.empty() || x.shape.back() < 1) check_.fail("input needs a non-empty last axis");
    for (const auto& [values, what] :
         {std::pair{offset_, "offset"}, std::pair{scale_, "scale"}, std::pair{bias_, "bias"}}) {
      if (values && num_elements(values->shape()) != x.shape.back()) {
        check_.fail(std::string(what) + " has " + std::to_string(num_elements(values->shape())) +
                    " values but the input has " + std::to_string(x.shape.back()) + " channels");
      }
    }
    std::vector<TensorInfo> out = {{ternary_ ? DType::kTernary : DType::kBits, x.shape}};
    if (with_abs_mean_) {
      Shape means = x.shape;
      means.back() = 1;
      out.push_back({DType::kFloat32, means});
    }
    return out;
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    const Tensor& x = *in[0];
    const int64_t rows = x.info.num_rows();
    const int64_t channels = x.shape().back();
    const int64_t words = words_for_bits(channels);
    const int64_t row_words = out[0]->info.last_axis_storage();  // both planes when ternary
    const float* offset = offset_ ? offset_->f32() : nullptr;
    const float* scale = scale_ ? scale_->f32() : nullptr;
    const float* bias = bias_ ? bias_->f32() : nullptr;
    float* abs_mean = with_abs_mean_ ? out[1]->f32() : nullptr;
    const int64_t tasks = (rows + kRowsPerTask - 1) / kRowsPerTask;
    parallel_for(tasks, ctx.num_threads, [&](int64_t task, int) {
      const int64_t r0 = task * kRowsPerTask;
      const int64_t n = std::min(kRowsPerTask, rows - r0);
      Word* signs = out[0]->words() + r0 * row_words;
      kernel_(x.f32() + r0 * channels, n, channels, channels, scale, bias, offset, signs,
              ternary_ ? signs + words : nullptr, row_words, abs_mean ? abs_mean + r0 : nullptr);
    });
  }

 private:
  NodeChecker check_;
  BitpackFn kernel_;
  const Tensor* offset_ = nullptr;
  const Tensor* scale_ = nullptr;
  const Tensor* bias_ = nullptr;
  bool with_abs_mean_ = false;
  bool ternary_ = false;
};

}  // namespace

std::unique_ptr<Op> create_binarize_pack(const OpArgs& args) {
  return std::make_unique<BinarizePack>(args);
}

}  // namespace xnorinfer
