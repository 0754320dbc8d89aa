// BinaryDense: packed [R..., G..., C] input (the first batch_axes axes index rows; the G axes
// between them and the channels are groups of C bits, e.g. a flattened NHWC map), packed
// [O, G, ceil(C/64)] weights, XNOR + popcount through the bconv kernels, then the output
// transform. Output [R..., O].
//
// A row is G taps, one per group (of its sign words, then for ternary input, ONNX Sign(0) = 0,
// its mask words, through the masked kernels; the row's number of products is then the
// popcount of its masks).
//
// XNOR-Net's β (input beta_src, the abs_mean of the input's BinarizePack, [R..., G..., 1]):
// each row's output is scaled by the mean of its G values (mean |x| over the row's features),
// through the output transform's K slot.
#include <algorithm>

#include "xnorinfer/base/errors.h"
#include "xnorinfer/base/parallel.h"
#include "xnorinfer/graph/limits.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/binary_epilogue.h"
#include "xnorinfer/ops/binary_weights.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/op_schema.h"

namespace xnorinfer {
namespace {

// Output channels per task: a whole number of words, so packed outputs never share a word
// between threads, and a whole number of kernel blocks (every nb divides 64).
constexpr int64_t kChannelsPerTask = 64;
// Below this many bit products (some 4 µs on one AVX-512 core) a second thread's fork and join
// cost what it saves: a 512->1000 classifier at batch 1 took 3.4 µs on 2 threads, 1.1 on one.
constexpr int64_t kMinBitsToFork = int64_t{1} << 21;

// Input slots, by their names in the op schema (op_schema.cc); the epilogue
// (binary_epilogue.h) reads scale, bias, out_offset, post_scale and post_bias.
int slot(const char* name) { return op_schema("BinaryDense").input(name); }
const int kX = slot("x"), kWeight = slot("weight"), kBetaSrc = slot("beta_src");

class BinaryDense final : public Op {
 public:
  explicit BinaryDense(const OpArgs& args) : check_(args.node), kernel_{} {
    const AttrMap& a = args.node.attrs;
    in_channels_ = a.get_int("in_channels");  // bounds: op_schema.cc
    groups_in_ = a.get_int("groups_in", 1);
    batch_axes_ = a.get_int("batch_axes", 1);
    const Tensor& w = check_.constant(args, kWeight, DType::kBits, "weight");
    if (w.shape().empty() || w.shape()[0] < 1) check_.fail("weight must be [O, G, words]");
    out_channels_ = w.shape()[0];
    kernel_ = select_bconv(args.isa);
    count_bits_ = select_count_bits(args.isa);
    // Viewed as a 1x1 convolution over groups_in_ taps of words_for_bits(C) words.
    weights_ = block_binary_weights(check_, w, out_channels_, 1, groups_in_, in_channels_,
                                    kernel_.nb, kernel_.lane_bits);
    with_beta_ = check_.has_input(kBetaSrc);
    if (with_beta_ && args.constants[kBetaSrc]) check_.fail("beta_src must be a computed value");
    epilogue_ = BinaryEpilogue(check_, args, out_channels_, groups_in_ * in_channels_, with_beta_);
  }

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    const TensorInfo& x = *in[kX];
    if (x.dtype != DType::kTernary) check_.dtype(x, DType::kBits, "input");
    const size_t rank = x.shape.size();
    if (rank < static_cast<size_t>(batch_axes_) + 1) {
      check_.fail("input must have rank >= batch_axes + 1 = " + std::to_string(batch_axes_ + 1) +
                  ", got " + to_string(x.shape));
    }
    int64_t groups = 1;
    for (size_t i = batch_axes_; i + 1 < rank; ++i) groups *= x.shape[i];
    if (x.shape.back() != in_channels_ || groups != groups_in_) {
      check_.fail("input " + to_string(x.shape) + " must be [rows..., groups..., " +
                  std::to_string(in_channels_) + "] with " + std::to_string(groups_in_) +
                  " positions between its " + std::to_string(batch_axes_) +
                  " row axes and the channels");
    }
    if (with_beta_) {
      const TensorInfo& b = *in[kBetaSrc];
      check_.dtype(b, DType::kFloat32, "beta_src");
      Shape want = x.shape;
      want.back() = 1;
      if (b.shape != want) {
        check_.fail("beta_src must be " + to_string(want) + " (the input's abs_mean), got " +
                    to_string(b.shape));
      }
    }
    Shape out(x.shape.begin(), x.shape.begin() + batch_axes_);
    out.push_back(out_channels_);
    return {{epilogue_.packed() ? DType::kBits : DType::kFloat32, out}};
  }

  // Every row goes out through the epilogue, which writes exactly its channels.
  bool writes_exactly_its_outputs() const override { return true; }

  size_t scratch_bytes(const std::vector<const TensorInfo*>& in) const override {
    const int64_t rows = row_count(*in[kX]);
    return static_cast<size_t>(rows) * sizeof(const Word*) +
           static_cast<size_t>(groups_in_) * sizeof(BconvTap) +
           static_cast<size_t>(rows * (kChannelsPerTask + 1)) * sizeof(int32_t) +
           static_cast<size_t>(rows) * sizeof(float);
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    const Tensor& x = *in[kX];
    const bool ternary = x.info.dtype == DType::kTernary;
    const int64_t rows = row_count(x.info);
    const int64_t group_words = words_for_bits(in_channels_);
    const int64_t row_words = x.info.last_axis_storage() * groups_in_;
    // One tap per group: its sign words (then, ternary, its mask words).
    const int64_t tap_stride = ternary ? 2 * group_words : group_words;
    const int64_t tasks = (out_channels_ + kChannelsPerTask - 1) / kChannelsPerTask;
    const int threads =
        rows * out_channels_ * groups_in_ * in_channels_ < kMinBitsToFork ? 1 : ctx.num_threads;
    parallel_for(tasks, threads, [&](int64_t task, int thread) {
      const Word** ptrs = reinterpret_cast<const Word**>(ctx.thread_scratch(thread));
      BconvTap* taps = reinterpret_cast<BconvTap*>(ptrs + rows);
      int32_t* counts = reinterpret_cast<int32_t*>(taps + groups_in_);
      int32_t* products = counts + rows * kChannelsPerTask;
      float* beta = reinterpret_cast<float*>(products + rows);
      for (int64_t g = 0; g < groups_in_; ++g) taps[g] = {g * tap_stride, g};
      for (int64_t n = 0; n < rows; ++n) {
        ptrs[n] = x.words() + n * row_words;
        products[n] = static_cast<int32_t>(groups_in_ * in_channels_);
        beta[n] = with_beta_ ? row_mean(in[kBetaSrc]->f32() + n * groups_in_) : 0.0f;
      }
      // A ternary row's products: the popcount of its groups' masks.
      if (ternary) count_bits_(ptrs, rows, taps, groups_in_, group_words, group_words, products);
      const int64_t o0 = task * kChannelsPerTask;
      const int64_t count = std::min(kChannelsPerTask, out_channels_ - o0);
      for (int64_t b = 0; b * weights_.block < count; ++b) {
        const void* block = weights_.block_data(0, o0 / weights_.block + b);
        for (int64_t n = 0; n < rows; n += kernel_.mr) {
          const int64_t mr = std::min<int64_t>(kernel_.mr, rows - n);
          int32_t* block_counts = counts + n * kChannelsPerTask + b * weights_.block;
          if (ternary) {
            kernel_.masked(mr, groups_in_, taps, weights_.lanes_per_tap, ptrs + n, block,
                           block_counts, kChannelsPerTask, nullptr, group_words);
          } else {
            kernel_.fn(mr, groups_in_, taps, weights_.lanes_per_tap, ptrs + n, block, block_counts,
                       kChannelsPerTask, nullptr);
          }
        }
      }
      for (int64_t n = 0; n < rows; ++n) {
        float* y = epilogue_.packed() ? nullptr : out[0]->f32() + n * out_channels_ + o0;
        Word* bits = epilogue_.packed()
                         ? out[0]->words() + n * words_for_bits(out_channels_) + o0 / kBitsPerWord
                         : nullptr;
        epilogue_.write(counts + n * kChannelsPerTask, products[n], o0, count, beta[n], y, bits,
                        nullptr, nullptr);
      }
    });
  }

 private:
  int64_t row_count(const TensorInfo& x) const {
    int64_t rows = 1;
    for (int64_t i = 0; i < batch_axes_; ++i) rows *= x.shape[i];
    return rows;
  }

  // β of one row: the mean of its groups' abs_mean values, summed in order.
  float row_mean(const float* values) const {
    float sum = 0.0f;
    for (int64_t g = 0; g < groups_in_; ++g) sum += values[g];
    return sum / static_cast<float>(groups_in_);
  }

  NodeChecker check_;
  BconvKernel kernel_;
  CountBitsFn count_bits_ = nullptr;  // a ternary input's products (its nonzero masks)
  int64_t in_channels_ = 0, groups_in_ = 1, batch_axes_ = 1, out_channels_ = 0;
  BlockedBinaryWeights weights_;
  bool with_beta_ = false;
  BinaryEpilogue epilogue_;
};

}  // namespace

std::unique_ptr<Op> create_binary_dense(const OpArgs& args) {
  return std::make_unique<BinaryDense>(args);
}

}  // namespace xnorinfer
