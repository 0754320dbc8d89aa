// Conv2d (float) and BwnConv2d (float activations, ±1 weights scaled per output channel), each
// with an optional fused activation (activation.h).
// BWN weights arrive packed (32x smaller files) and are expanded to ±1 floats once, here.
// A Conv2d with precision "int8" or "bf16" (the opt-in first layer) runs through QuantConvCore;
// a conv with pool_* attributes pools its output in the same pass (conv_max_pool.h). A float
// Conv2d with input_layout "nchw" reads the network's image as the caller has it (a stem); with
// output_layout "nchw" (a conv that ends the network) y is [N, O, Ho, Wo]: each task writes its
// output rows into its scratch and transposes them into the planes, so no Transpose pass reads
// the output again.
#include <memory>
#include <optional>

#include "xnorinfer/base/bits.h"
#include "xnorinfer/base/parallel.h"
#include "xnorinfer/graph/limits.h"
#include "xnorinfer/ops/activation.h"
#include "xnorinfer/ops/channel_split.h"
#include "xnorinfer/ops/conv_max_pool.h"
#include "xnorinfer/ops/float_conv_core.h"
#include "xnorinfer/ops/float_weights.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/quant_conv_core.h"

namespace xnorinfer {
namespace {

class Conv2d final : public Op {
 public:
  explicit Conv2d(const OpArgs& args, bool bwn)
      : check_(args.node), transpose_(select_transpose(args.isa)) {
    const AttrMap& a = args.node.attrs;
    nchw_out_ = check_.nchw_layout("output_layout");
    const ConvGeometry geom = ConvGeometry::parse(args.node);
    const int64_t group =
        a.get_int("group", 1);  // bounds (and BwnConv2d's zero padding): op_schema.cc
    if (bwn) {
      const int64_t in_channels = a.get_int("in_channels");
      const Tensor& w = check_.constant(args, 1, DType::kBits, "weight");
      if (w.shape().size() != 4 || in_channels % group != 0 || w.shape()[1] != geom.kh ||
          w.shape()[2] != geom.kw ||
          w.info.last_axis_storage() != words_for_bits(in_channels / group)) {
        check_.fail("weight must be [O, KH, KW, words of in_channels/group], got " +
                    to_string(w.shape()));
      }
      const int64_t out_channels = w.shape()[0];
      const int64_t cg = in_channels / group;
      const std::vector<float> signs = unpack_signs(w, out_channels * geom.kh * geom.kw, cg);
      core_ = std::make_unique<FloatConvCore>(check_, geom, group, in_channels, out_channels,
                                              signs.data(), args.isa);
      scale_ = check_.float_vector(args, 2, out_channels, "scale");
      bias_ = check_.float_vector(args, 3, out_channels, "bias");
    } else {
      const Tensor& w = check_.constant(args, 1, DType::kFloat32, "weight");
      if (w.shape().size() != 4 || w.shape()[1] != geom.kh || w.shape()[2] != geom.kw) {
        check_.fail("weight must be [O, KH, KW, C/group], got " + to_string(w.shape()));
      }
      const int64_t out_channels = w.shape()[0];
      if (check_.has_input(2)) bias_ = check_.float_vector(args, 2, out_channels, "bias");
      activation_ = Activation(check_, a, out_channels);
      const std::string precision = a.get_string("precision", "float32");
      input_nchw_ = check_.nchw_layout("input_layout");
      if (input_nchw_ && precision != "float32") {
        check_.fail("input_layout 'nchw' needs precision float32, got '" + precision + "'");
      }
      if (precision == "int8" || precision == "bf16") {
        if (group != 1) check_.fail("precision " + precision + " needs group 1");
        core_ = std::make_unique<QuantConvCore>(
            check_,
            precision == "int8" ? QuantConvCore::Precision::kInt8 : QuantConvCore::Precision::kBf16,
            geom, w.shape()[3], out_channels, w.f32(), bias_, activation_.relu(), args.isa);
      } else if (precision == "float32") {
        core_ = std::make_unique<FloatConvCore>(check_, geom, group, w.shape()[3] * group,
                                                out_channels, w.f32(), args.isa, bias_,
                                                activation_.relu(), input_nchw_);
      } else {
        check_.fail("precision must be float32, int8 or bf16, got '" + precision + "'");
      }
      if (core_->adds_bias()) bias_ = nullptr;
      if (core_->applies_relu()) activation_ = Activation();
    }
    if (bwn) activation_ = Activation(check_, a, core_->out_channels());
    if (a.has("pool_kernel_shape"))
      pool_.emplace(check_, ConvGeometry::parse(a, "pool_"), args.isa);
  }

  // An NCHW input is read only by the interleaving kernels (float_conv_core.h).
  bool reads_exactly_its_inputs() const override { return input_nchw_; }

  // An NCHW output is written only by the tile transpose kernels, whole floats, unaligned.
  bool writes_exactly_its_outputs() const override { return nchw_out_; }

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    const TensorInfo conv = core_->infer(check_, *in[0]);
    TensorInfo y = pool_ ? pool_->infer(check_, conv) : conv;
    if (nchw_out_) y.shape = {y.shape[0], y.shape[3], y.shape[1], y.shape[2]};
    return {y};
  }

  size_t scratch_bytes(const std::vector<const TensorInfo*>& in) const override {
    if (pool_) return pool_->scratch_bytes(*core_, core_->infer(check_, *in[0]), nchw_out_);
    return static_cast<size_t>(tile_rows_offset() + (nchw_out_ ? tile_rows_bytes() : 0));
  }

  size_t shared_scratch_bytes(const std::vector<const TensorInfo*>& in) const override {
    return core_->shared_scratch_bytes(*in[0]);
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    const Tensor& x = *in[0];
    core_->prepare(check_, x, ctx);
    const int64_t oc = core_->out_channels();
    const bool with_epilogue = scale_ || bias_ || !activation_.none();
    // What the core left to do on channels [c.begin, c.end) of `rows` output rows.
    const auto finish = [&](float* y, int64_t rows, OutputChannels c) {
      if (!with_epilogue) return;
      for (int64_t r = 0; r < rows; ++r, y += oc) {
        if (scale_) {
          for (int64_t o = c.begin; o < c.end; ++o) y[o] = y[o] * scale_[o] + bias_[o];
        } else if (bias_) {
          for (int64_t o = c.begin; o < c.end; ++o) y[o] += bias_[o];
        }
        activation_.apply(y + c.begin, c.begin, c.end - c.begin);
      }
    };
    const Shape conv = core_->infer(check_, x.info).shape;
    if (pool_) {
      pool_->run(*core_, x, conv, *out[0], nchw_out_, ctx,
                 [&](float* y, int64_t rows) { finish(y, rows, {0, oc}); });
      return;
    }
    const Shape& ys = conv;  // NHWC
    const int64_t pixels = ys[1] * ys[2];
    const int64_t tile_pixels =
        balanced_tile_pixels(ys[0], pixels, ctx.num_threads, kConvTilePixels);
    const int64_t tiles = (pixels + tile_pixels - 1) / tile_pixels;
    const int64_t chunk = channel_chunk(ys[0] * tiles, ctx.num_threads, oc, core_->channel_block());
    const int64_t chunks = (oc + chunk - 1) / chunk;
    parallel_for(ys[0] * tiles * chunks, ctx.num_threads, [&](int64_t task, int thread) {
      const int64_t tile = task / chunks, o0 = (task % chunks) * chunk;
      const int64_t n = tile / tiles;
      const int64_t p0 = (tile % tiles) * tile_pixels;
      const int64_t count = std::min(tile_pixels, pixels - p0);
      const OutputChannels channels{o0, std::min(o0 + chunk, oc)};
      uint8_t* scratch = ctx.thread_scratch(thread);
      float* y = nchw_out_ ? reinterpret_cast<float*>(scratch + tile_rows_offset())
                           : out[0]->f32() + (n * pixels + p0) * oc;
      core_->compute(x, n, p0, count, ys[2], y, channels, ctx, scratch);
      finish(y, count, channels);
      if (nchw_out_) {
        transpose_matrix(transpose_, y + o0, oc, count, channels.end - o0,
                         out[0]->f32() + (n * oc + o0) * pixels + p0, pixels);
      }
    });
  }

 private:
  // An NCHW output's tile rows (kConvTilePixels rows of out_channels floats) follow the core's
  // scratch in a thread's scratch.
  int64_t tile_rows_offset() const {
    return round_up(static_cast<int64_t>(core_->scratch_bytes()), 64);
  }
  int64_t tile_rows_bytes() const {
    return kConvTilePixels * core_->out_channels() * int64_t{sizeof(float)};
  }

  NodeChecker check_;
  TransposeTileFn transpose_;
  std::unique_ptr<ConvCore> core_;
  std::optional<ConvMaxPool> pool_;  // a MaxPool fused after the activation
  Activation activation_;
  const float* scale_ = nullptr;
  const float* bias_ = nullptr;
  bool input_nchw_ = false;
  bool nchw_out_ = false;  // y is [N, O, Ho, Wo]
};

}  // namespace

std::unique_ptr<Op> create_conv2d(const OpArgs& args) {
  return std::make_unique<Conv2d>(args, false);
}
std::unique_ptr<Op> create_bwn_conv2d(const OpArgs& args) {
  return std::make_unique<Conv2d>(args, true);
}

}  // namespace xnorinfer
