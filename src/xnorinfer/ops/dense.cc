// Dense (float) and BwnDense (float activations, ±1 weights scaled per output channel), with an
// optional fused activation (activation.h):
// y[n, o] = sum_k x[n, k] * W[o, k] (then * scale[o]) + bias[o], through the float GEMM.
// x may have any rank >= 2: its leading axes are rows, [..., K] -> [..., O], read in place.
// A Dense with precision "bf16" (the opt-in float_layers="bf16") rounds x and W to bf16 and sums
// in float32 through the bf16 conv kernels (bfconv.h), each row of x one pixel of one window
// row: half the weight bytes of a classifier that streams its weights from memory.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "xnorinfer/base/aligned_buffer.h"
#include "xnorinfer/base/errors.h"
#include "xnorinfer/base/parallel.h"
#include "xnorinfer/graph/limits.h"
#include "xnorinfer/kernels/bfconv/bf16_panels.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/activation.h"
#include "xnorinfer/ops/float_weights.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {
namespace {

// A task spans 4 panels of the AVX-512 GEMM, which a batch of a few rows reads side by side.
constexpr int64_t kChannelsPerTask = 128;

class Dense final : public Op {
 public:
  Dense(const OpArgs& args, bool bwn)
      : check_(args.node), sgemm_(select_sgemm(args.isa)), bfconv_(select_bfconv(args.isa)) {
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
      if (check_.has_input(2)) bias_ = check_.float_vector(args, 2, out_features_, "bias");
      const std::string precision = args.node.attrs.get_string("precision", "float32");
      if (precision == "bf16") {
        pack_bf16_weights(w.f32());
      } else if (precision == "float32") {
        weights_ = pack_float_weights(w.f32(), out_features_, in_features_, sgemm_.nr);
      } else {
        check_.fail("precision must be float32 or bf16, got '" + precision + "'");
      }
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

  size_t shared_scratch_bytes(const std::vector<const TensorInfo*>& in) const override {
    return bf16_ ? static_cast<size_t>(in[0]->num_rows() * bf16_row_bytes()) : 0;
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    if (bf16_) return run_bf16(*in[0], *out[0], ctx);
    const int64_t batch = in[0]->info.num_rows();
    const int64_t tasks = (out_features_ + kChannelsPerTask - 1) / kChannelsPerTask;
    // The GEMM adds a float layer's bias and applies a relu; a BWN layer's scale comes first.
    const float* gemm_bias = scale_ ? nullptr : bias_;
    const bool gemm_relu = !scale_ && activation_.relu();
    const bool after_gemm = scale_ || (!gemm_relu && !activation_.none());
    parallel_for(tasks, ctx.num_threads, [&](int64_t task, int) {
      const int64_t o0 = task * kChannelsPerTask;
      const int64_t count = std::min(kChannelsPerTask, out_features_ - o0);
      float* y = out[0]->f32();
      sgemm_.fn(batch, count, in_features_, in[0]->f32(), in_features_, weights_.from(o0), y + o0,
                out_features_, gemm_bias ? gemm_bias + o0 : nullptr, gemm_relu);
      if (!after_gemm) return;
      for (int64_t n = 0; n < batch; ++n) {
        float* row = y + n * out_features_;
        if (scale_) {
          for (int64_t o = o0; o < o0 + count; ++o) row[o] = row[o] * scale_[o] + bias_[o];
        }
        activation_.apply(row + o0, o0, count);
      }
    });
  }

 private:
  // A row of x in bf16: in_features_ rounded up to a pair (the kernels step 2 elements at a time).
  int64_t bf16_row_bytes() const { return round_up(in_features_, 2) * 2; }

  // The bfconv weight panels of one window row of in_features_ elements (bf16_panels.h).
  void pack_bf16_weights(const float* w) {
    for (int64_t i = 0; i < out_features_ * in_features_; ++i) {
      if (!std::isfinite(w[i])) check_.fail("precision bf16 needs finite weights");
    }
    XI_DCHECK(bfconv_.mr <= kMaxKernelRows);
    const int64_t nb = bfconv_.nb;
    bf16_panels_ =
        AlignedBuffer(static_cast<size_t>(round_up(out_features_, nb) * bf16_row_bytes()));
    pack_bf16_panels(w, out_features_, 1, in_features_, bf16_row_bytes(), nb, bf16_panels_.data());
    if (!bias_) {
      zero_bias_.assign(static_cast<size_t>(out_features_), 0.0f);
      bias_ = zero_bias_.data();
    }
    bf16_ = true;
  }

  // x's rows rounded to bf16 in the shared scratch, then tasks of kChannelsPerTask channels,
  // the kernels adding the bias and this op the activation.
  void run_bf16(const Tensor& x, Tensor& y, const RunContext& ctx) const {
    const int64_t rows = x.info.num_rows(), row_bytes = bf16_row_bytes();
    uint8_t* const rows_bf16 = ctx.shared_scratch;
    LowestItem not_finite(rows);
    parallel_for(rows, ctx.num_threads, [&](int64_t n, int) {
      uint8_t* dst = rows_bf16 + n * row_bytes;
      if (!bfconv_.round_row(x.f32() + n * in_features_, in_features_, dst)) not_finite.report(n);
      std::memset(dst + 2 * in_features_, 0, static_cast<size_t>(row_bytes - 2 * in_features_));
    });
    if (not_finite.any()) {
      check_.fail_input("row " + std::to_string(not_finite.item()) +
                        " of the input holds NaN or infinity, which precision bf16 does not take");
    }
    const int64_t nb = bfconv_.nb, mr = bfconv_.mr, panel_bytes = row_bytes * nb;
    const int64_t tasks = (out_features_ + kChannelsPerTask - 1) / kChannelsPerTask;
    parallel_for(tasks, ctx.num_threads, [&](int64_t task, int) {
      const int64_t o0 = task * kChannelsPerTask;
      const int64_t end = std::min(o0 + kChannelsPerTask, out_features_);
      const uint8_t* pixels[kMaxKernelRows];
      float* outs[kMaxKernelRows];
      for (int64_t n0 = 0; n0 < rows; n0 += mr) {
        const int64_t count = std::min(mr, rows - n0);
        for (int64_t i = 0; i < count; ++i) {
          pixels[i] = rows_bf16 + (n0 + i) * row_bytes;
          outs[i] = y.f32() + (n0 + i) * out_features_;
        }
        for (int64_t o = o0; o < end; o += nb) {
          bfconv_.fn(count, 1, 0, row_bytes, pixels, bf16_panels_.data() + (o / nb) * panel_bytes,
                     bias_ + o, false, outs, o, std::min(nb, end - o));
        }
      }
      for (int64_t n = 0; n < rows; ++n) {
        activation_.apply(y.f32() + n * out_features_ + o0, o0, end - o0);
      }
    });
  }

  // The most rows a bfconv kernel takes in one call.
  static constexpr int64_t kMaxKernelRows = 8;

  NodeChecker check_;
  SgemmKernel sgemm_;
  BfconvKernel bfconv_;
  int64_t in_features_ = 0, out_features_ = 0;
  PackedFloatWeights weights_;
  bool bf16_ = false;
  AlignedBuffer bf16_panels_;
  std::vector<float> zero_bias_;
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
