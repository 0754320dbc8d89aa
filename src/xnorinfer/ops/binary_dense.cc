// BinaryDense: packed [N, G..., C] input (G groups of C bits, e.g. a flattened NHWC map),
// packed [O, G, ceil(C/64)] weights, XNOR + popcount through the bconv kernels (one "tap" per
// sample: its G groups of words), then the output transform.
#include <algorithm>

#include "xnorinfer/base/errors.h"
#include "xnorinfer/base/parallel.h"
#include "xnorinfer/graph/limits.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/activation.h"
#include "xnorinfer/ops/binary_weights.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/output_transform.h"

namespace xnorinfer {
namespace {

// Output channels per task: a whole number of words, so packed outputs never share a word
// between threads, and a whole number of kernel blocks (every nb divides 64).
constexpr int64_t kChannelsPerTask = 64;

enum Input { kX, kWeight };  // then scale, bias, out_offset: see make_output_transform

class BinaryDense final : public Op {
 public:
  explicit BinaryDense(const OpArgs& args) : check_(args.node), kernel_{} {
    const AttrMap& a = args.node.attrs;
    check_.input_count(4, 5);
    check_.output_count(1, 1);
    in_channels_ = a.get_bounded_int("in_channels", 1, kMaxExtent);
    groups_in_ = a.get_bounded_int("groups_in", 1, 1, kMaxExtent);
    const Tensor& w = check_.constant(args, kWeight, DType::kBits, "weight");
    if (w.shape().empty() || w.shape()[0] < 1) check_.fail("weight must be [O, G, words]");
    out_channels_ = w.shape()[0];
    kernel_ = select_bconv(args.isa);
    // Viewed as a 1x1 convolution over one "tap" of groups_in_ * words_for_bits(C) words.
    weights_ = block_binary_weights(check_, w, out_channels_, 1, groups_in_, in_channels_, kernel_.nb);
    transform_ = make_output_transform(check_, args, out_channels_, groups_in_ * in_channels_,
                                       /*with_kmap=*/false);
    activation_ = Activation(check_, a, out_channels_);
    if (!activation_.none() && transform_.packed()) check_.fail("an activation needs a float output");
  }

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    const TensorInfo& x = *in[kX];
    check_.dtype(x, DType::kBits, "input");
    if (x.shape.size() < 2) check_.fail("input must have rank >= 2, got " + to_string(x.shape));
    int64_t groups = 1;
    for (size_t i = 1; i + 1 < x.shape.size(); ++i) groups *= x.shape[i];
    if (x.shape.back() != in_channels_ || groups != groups_in_) {
      check_.fail("input " + to_string(x.shape) + " must be [N, ..., " +
                  std::to_string(in_channels_) + "] with " + std::to_string(groups_in_) +
                  " positions between batch and channels");
    }
    return {{transform_.packed() ? DType::kBits : DType::kFloat32, {x.shape[0], out_channels_}}};
  }

  size_t scratch_bytes(const std::vector<const TensorInfo*>& in) const override {
    const int64_t batch = in[kX]->shape[0];
    return static_cast<size_t>(batch) * sizeof(const Word*) +
           static_cast<size_t>(batch * kChannelsPerTask) * sizeof(int32_t);
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    const Tensor& x = *in[kX];
    const int64_t batch = x.shape()[0];
    const int64_t x_words = weights_.k_words();
    const int64_t tasks = (out_channels_ + kChannelsPerTask - 1) / kChannelsPerTask;
    const int32_t products = static_cast<int32_t>(groups_in_ * in_channels_);
    parallel_for(tasks, ctx.num_threads, [&](int64_t task, int thread) {
      const Word** rows = reinterpret_cast<const Word**>(ctx.thread_scratch(thread));
      int32_t* counts = reinterpret_cast<int32_t*>(rows + batch);
      for (int64_t n = 0; n < batch; ++n) rows[n] = x.words() + n * x_words;
      const int64_t o0 = task * kChannelsPerTask;
      const int64_t count = std::min(kChannelsPerTask, out_channels_ - o0);
      for (int64_t b = 0; b * weights_.block < count; ++b) {
        const Word* block = weights_.block_data(0, o0 / weights_.block + b);
        for (int64_t n = 0; n < batch; n += kernel_.mr) {
          // The whole sample is one tap of k_words words.
          kernel_.fn(std::min<int64_t>(kernel_.mr, batch - n), 1, x_words, rows + n, block,
                     counts + n * kChannelsPerTask + b * weights_.block, kChannelsPerTask);
        }
      }
      for (int64_t n = 0; n < batch; ++n) {
        float* y = transform_.packed() ? nullptr : out[0]->f32() + n * out_channels_ + o0;
        transform_.write(counts + n * kChannelsPerTask, products, o0, count, 0.0f, y,
                         transform_.packed()
                             ? out[0]->words() + n * words_for_bits(out_channels_) + o0 / kBitsPerWord
                             : nullptr);
        if (y) activation_.apply(y, o0, count);
      }
    });
  }

 private:
  NodeChecker check_;
  BconvKernel kernel_;
  int64_t in_channels_ = 0, groups_in_ = 1, out_channels_ = 0;
  BlockedBinaryWeights weights_;
  OutputTransform transform_;
  Activation activation_;
};

}  // namespace

std::unique_ptr<Op> create_binary_dense(const OpArgs& args) {
  return std::make_unique<BinaryDense>(args);
}

}  // namespace xnorinfer
