// BinarizePack: float [..., C] -> bits [..., C], optionally with a per-channel offset added
// before the sign test (ReActNet's RSign) and the XNOR-Net A map (mean |x| over channels).
// With output "ternary" it also writes the nonzero plane, so ONNX's Sign(0) = 0 stays exact.
// With a per-channel scale and bias the packed value is x * scale + bias: a ChannelAffine the
// converter fused (a BatchNorm between a pool or relu and a Sign), whose float tensor is then
// never written.
// With input_layout "nchw" it reads [N, C, spatial...] and writes [N, spatial..., C]: each task
// transposes a block of pixels into its scratch and packs that (a network's NCHW input, packed
// in one pass instead of a Transpose and then the pack).
#include <algorithm>
#include <string>
#include <utility>

#include "xnorinfer/base/errors.h"
#include "xnorinfer/base/parallel.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/kernels/transpose/transpose.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {
namespace {

constexpr int64_t kRowsPerTask = 64;
// NCHW input: a task's transposed pixels fill at most this many bytes of its scratch (in L1),
// and a block takes at least kTransposeTile pixels: a cache line from each plane.
constexpr int64_t kNchwBlockBytes = 16 * 1024;

class BinarizePack final : public Op {
 public:
  explicit BinarizePack(const OpArgs& args)
      : check_(args.node),
        kernel_(select_bitpack(args.isa)),
        transpose_tile_(select_transpose(args.isa)) {
    with_abs_mean_ = args.node.outputs.size() == 2 && !args.node.outputs[1].empty();
    const std::string output = args.node.attrs.get_string("output", "bits");
    if (output != "bits" && output != "ternary") check_.fail("output must be 'bits' or 'ternary'");
    ternary_ = output == "ternary";
    nchw_ = check_.nchw_layout("input_layout");
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
    if (nchw_ && x.shape.size() < 3) {
      check_.fail("input_layout 'nchw' needs an input of rank 3 or more, got rank " +
                  std::to_string(x.shape.size()));
    }
    const Shape shape = nchw_ ? channels_last(x.shape) : x.shape;
    if (shape.empty() || shape.back() < 1) check_.fail("input needs a non-empty channel axis");
    for (const auto& [values, what] :
         {std::pair{offset_, "offset"}, std::pair{scale_, "scale"}, std::pair{bias_, "bias"}}) {
      if (values && num_elements(values->shape()) != shape.back()) {
        check_.fail(std::string(what) + " has " + std::to_string(num_elements(values->shape())) +
                    " values but the input has " + std::to_string(shape.back()) + " channels");
      }
    }
    std::vector<TensorInfo> out = {{ternary_ ? DType::kTernary : DType::kBits, shape}};
    if (with_abs_mean_) {
      Shape means = shape;
      means.back() = 1;
      out.push_back({DType::kFloat32, means});
    }
    return out;
  }

  // The NCHW form reads its input through the tile transpose only: exactly its elements, at
  // any alignment (the pack kernels read the transposed copy, with slack).
  bool reads_exactly_its_inputs() const override { return nchw_; }

  size_t scratch_bytes(const std::vector<const TensorInfo*>& in) const override {
    if (!nchw_) return 0;
    const int64_t channels = in[0]->shape[1];
    return static_cast<size_t>(block_pixels(channels) * channels) * sizeof(float) + kExtraBytes;
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    const Tensor& y = *out[0];
    const int64_t channels = y.shape().back();
    const int64_t row_words = y.info.last_axis_storage();  // both planes when ternary
    const Rows rows{y.words(), ternary_ ? words_for_bits(channels) : -1, row_words,
                    with_abs_mean_ ? out[1]->f32() : nullptr};
    if (nchw_) return run_nchw(*in[0], channels, rows, ctx);
    const float* x = in[0]->f32();
    const int64_t count = y.info.num_rows();
    const int64_t tasks = (count + kRowsPerTask - 1) / kRowsPerTask;
    parallel_for(tasks, ctx.num_threads, [&](int64_t task, int) {
      const int64_t r0 = task * kRowsPerTask;
      pack(x + r0 * channels, r0, std::min(kRowsPerTask, count - r0), channels, rows);
    });
  }

 private:
  // Where packed rows go: row r's signs at signs + r * row_words, its nonzero plane mask_words
  // later (-1: bits only), its A map value at abs_mean[r].
  struct Rows {
    Word* signs;
    int64_t mask_words, row_words;
    float* abs_mean;
  };

  // [N, C, spatial...] -> [N, spatial..., C].
  static Shape channels_last(const Shape& nchw) {
    Shape shape = {nchw[0]};
    shape.insert(shape.end(), nchw.begin() + 2, nchw.end());
    shape.push_back(nchw[1]);
    return shape;
  }

  // Pixels per NCHW task: whole transpose tiles, kNchwBlockBytes of floats at most.
  static int64_t block_pixels(int64_t channels) {
    const int64_t fit = kNchwBlockBytes / static_cast<int64_t>(sizeof(float)) / channels;
    return std::max<int64_t>(kTransposeTile, fit / kTransposeTile * kTransposeTile);
  }

  // Packs `count` rows of `channels` floats at x (contiguous) into rows [r0, r0 + count).
  void pack(const float* x, int64_t r0, int64_t count, int64_t channels, const Rows& rows) const {
    Word* signs = rows.signs + r0 * rows.row_words;
    kernel_(x, count, channels, channels, scale_ ? scale_->f32() : nullptr,
            bias_ ? bias_->f32() : nullptr, offset_ ? offset_->f32() : nullptr, signs,
            rows.mask_words < 0 ? nullptr : signs + rows.mask_words, rows.row_words,
            rows.abs_mean ? rows.abs_mean + r0 : nullptr);
  }

  // Tasks are blocks of one image's pixels: each is transposed (16 x 16 tiles) into the
  // thread's scratch as rows of channels, then packed.
  void run_nchw(const Tensor& x, int64_t channels, const Rows& rows, const RunContext& ctx) const {
    const int64_t images = x.shape()[0];
    const int64_t pixels = num_elements(x.shape()) / (images * channels);
    const int64_t block = block_pixels(channels);
    const int64_t blocks = (pixels + block - 1) / block;
    parallel_for(images * blocks, ctx.num_threads, [&](int64_t task, int thread) {
      const int64_t n = task / blocks, p0 = task % blocks * block;
      const int64_t count = std::min(block, pixels - p0);
      const float* planes = x.f32() + n * channels * pixels + p0;
      float* block_rows = reinterpret_cast<float*>(ctx.thread_scratch(thread));
      transpose_matrix(transpose_tile_, planes, pixels, channels, count, block_rows, channels);
      pack(block_rows, n * pixels + p0, count, channels, rows);
    });
  }

  NodeChecker check_;
  BitpackFn kernel_;
  TransposeTileFn transpose_tile_;
  const Tensor* offset_ = nullptr;
  const Tensor* scale_ = nullptr;
  const Tensor* bias_ = nullptr;
  bool with_abs_mean_ = false;
  bool ternary_ = false;
  bool nchw_ = false;
};

}  // namespace

std::unique_ptr<Op> create_binarize_pack(const OpArgs& args) {
  return std::make_unique<BinarizePack>(args);
}

}  // namespace xnorinfer
