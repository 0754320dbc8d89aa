// Dense (float) and BwnDense (float activations, ±1 weights scaled per output channel), with an
// optional fused activation (activation.h):
// y[n, o] = sum_k x[n, k] * W[o, k] (then * scale[o]) + bias[o], through the float GEMM.
// x may have any rank >= 2: its leading axes are rows, [..., K] -> [..., O], read in place.
#include <algorithm>
#include <vector>

#include "xnorinfer/base/parallel.h"
#include "xnorinfer/graph/limits.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/activation.h"
#include "xnorinfer/ops/float_weights.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {
namespace {

constexpr int64_t kChannelsPerTask = 64;

class Dense final : public Op {
 public:
  Dense(const OpArgs& args, bool bwn) : check_(args.node), sgemm_(select_sgemm(args.isa)) {
    static_assert(kChannelsPerTask % 64 == 0, "tasks must start on a GEMM panel (nr <= 64)");
    if (bwn) {
      in_features_ = args.node.attrs.get_int("in_channels");  // bounds, groups_in: op_schema.cc
      const Tensor& w = check_.constant(args, 1, DType::kBits, "weight");
      const int64_t words = words_for_bits(in_features_);
      if (w.shape().empty() ||
          w.info.storage_bytes() != w.shape()[0] * words * static_cast<int64_t>(sizeof(Word))) {
        check_.fail("weight must be [O, 1, " + std::to_string(words) + "] words, got " +
                    std::to_string(w.info.storage_bytes() / 8) + " words");
      }
      out_features_ = w.shape()[0];
      const std::vector<float> signs = unpack_signs(w, out_features_, in_features_);
      weights_ = pack_float_weights(signs.data(), out_features_, in_features_, sgemm_.nr);
      scale_ = check_.float_vector(args, 2, out_features_, "scale");
      bias_ = check_.float_vector(args, 3, out_features_, "bias");
    } else {
      const Tensor& w = check_.constant(args, 1, DType::kFloat32, "weight");
      check_.rank(w.info, 2, "weight");
      out_features_ = w.shape()[0];
      in_features_ = w.shape()[1];
      weights_ = pack_float_weights(w.f32(), out_features_, in_features_, sgemm_.nr);
      if (check_.has_input(2)) bias_ = check_.float_vector(args, 2, out_features_, "bias");
    }
    activation_ = Activation(check_, args.node.attrs, out_features_);
  }

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    const TensorInfo& x = *in[0];
    check_.dtype(x, DType::kFloat32, "input");
    if (x.shape.size() < 2) check_.fail("input must have rank >= 2, got " + to_string(x.shape));
    if (x.shape.back() != in_features_) {
      check_.fail("input has " + std::to_string(x.shape.back()) + " features, expected " +
                  std::to_string(in_features_));
    }
    Shape out = x.shape;
    out.back() = out_features_;
    return {{DType::kFloat32, out}};
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    const int64_t batch = in[0]->info.num_rows();
    const int64_t tasks = (out_features_ + kChannelsPerTask - 1) / kChannelsPerTask;
    parallel_for(tasks, ctx.num_threads, [&](int64_t task, int) {
      const int64_t o0 = task * kChannelsPerTask;
      const int64_t count = std::min(kChannelsPerTask, out_features_ - o0);
      float* y = out[0]->f32();
      sgemm_.fn(batch, count, in_features_, in[0]->f32(), in_features_, weights_.from(o0), y + o0,
                out_features_);
      for (int64_t n = 0; n < batch; ++n) {
        float* row = y + n * out_features_;
        for (int64_t o = o0; o < o0 + count; ++o) {
          if (scale_)
            row[o] = row[o] * scale_[o] + bias_[o];
          else if (bias_)
            row[o] += bias_[o];
        }
        activation_.apply(row + o0, o0, count);
      }
    });
  }

 private:
  NodeChecker check_;
  SgemmKernel sgemm_;
  int64_t in_features_ = 0, out_features_ = 0;
  PackedFloatWeights weights_;
  Activation activation_;
  const float* scale_ = nullptr;
  const float* bias_ = nullptr;
};

}  // namespace

std::unique_ptr<Op> create_dense(const OpArgs& args) {
  return std::make_unique<Dense>(args, false);
}
std::unique_ptr<Op> create_bwn_dense(const OpArgs& args) {
  return std::make_unique<Dense>(args, true);
}

}  // namespace xnorinfer
