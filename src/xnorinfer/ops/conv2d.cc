// Conv2d (float) and BwnConv2d (float activations, ±1 weights scaled per output channel), each
// with an optional fused activation (activation.h).
// BWN weights arrive packed (32x smaller files) and are expanded to ±1 floats once, here.
// A Conv2d with precision "int8" or "bf16" (the opt-in first layer) runs through QuantConvCore;
// a conv with pool_* attributes pools its output in the same pass (conv_max_pool.h). A float
// Conv2d with input_layout "nchw" reads the network's image as the caller has it (a stem).
#include <memory>
#include <optional>

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
  explicit Conv2d(const OpArgs& args, bool bwn) : check_(args.node) {
    const AttrMap& a = args.node.attrs;
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
      const std::string layout = a.get_string("input_layout", "nhwc");
      if (layout != "nhwc" && layout != "nchw") {
        check_.fail("input_layout must be 'nhwc' or 'nchw', got '" + layout + "'");
      }
      input_nchw_ = layout == "nchw";
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

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    const TensorInfo conv = core_->infer(check_, *in[0]);
    return {pool_ ? pool_->infer(check_, conv) : conv};
  }

  size_t scratch_bytes(const std::vector<const TensorInfo*>& in) const override {
    return pool_ ? pool_->scratch_bytes(*core_, core_->infer(check_, *in[0]))
                 : core_->scratch_bytes();
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
    if (pool_) {
      pool_->run(*core_, x, core_->infer(check_, x.info).shape, *out[0], ctx,
                 [&](float* y, int64_t rows) { finish(y, rows, {0, oc}); });
      return;
    }
    const Shape& ys = out[0]->shape();
    const int64_t pixels = ys[1] * ys[2];
    const int64_t tiles = (pixels + kConvTilePixels - 1) / kConvTilePixels;
    const int64_t chunk = channel_chunk(ys[0] * tiles, ctx.num_threads, oc, core_->channel_block());
    const int64_t chunks = (oc + chunk - 1) / chunk;
    parallel_for(ys[0] * tiles * chunks, ctx.num_threads, [&](int64_t task, int thread) {
      const int64_t tile = task / chunks, o0 = (task % chunks) * chunk;
      const int64_t n = tile / tiles;
      const int64_t p0 = (tile % tiles) * kConvTilePixels;
      const int64_t count = std::min(kConvTilePixels, pixels - p0);
      const OutputChannels channels{o0, std::min(o0 + chunk, oc)};
      float* y = out[0]->f32() + (n * pixels + p0) * oc;
      core_->compute(x, n, p0, count, ys[2], y, channels, ctx, ctx.thread_scratch(thread));
      finish(y, count, channels);
    });
  }

 private:
  NodeChecker check_;
  std::unique_ptr<ConvCore> core_;
  std::optional<ConvMaxPool> pool_;  // a MaxPool fused after the activation
  Activation activation_;
  const float* scale_ = nullptr;
  const float* bias_ = nullptr;
  bool input_nchw_ = false;
};

}  // namespace

std::unique_ptr<Op> create_conv2d(const OpArgs& args) {
  return std::make_unique<Conv2d>(args, false);
}
std::unique_ptr<Op> create_bwn_conv2d(const OpArgs& args) {
  return std::make_unique<Conv2d>(args, true);
}

}  // namespace xnorinfer
