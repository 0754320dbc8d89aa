// MaxPool, AveragePool and GlobalAveragePool on float NHWC tensors (ONNX semantics). MaxPool
// also pools packed bits: the max of ±1 values is -1 only when all are -1, so with bit 1 = -1
// it is the AND of the window's words (and since binarizing is monotone,
// Sign(MaxPool(x)) == MaxPool(Sign(x))).
#include <algorithm>

#include "xnorinfer/base/parallel.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/conv_geometry.h"
#include "xnorinfer/ops/op_registry.h"

namespace xnorinfer {
namespace {

class Pool final : public Op {
 public:
  Pool(const OpArgs& args, bool is_max)
      : check_(args.node),
        geom_(ConvGeometry::parse(args.node)),
        is_max_(is_max),
        pool_(select_pool(args.isa)) {
    count_include_pad_ = args.node.attrs.get_int("count_include_pad", 0) != 0;
    check_pool_window(check_, geom_);
    if (!is_max && (geom_.dilation_h != 1 || geom_.dilation_w != 1)) {
      check_.fail("AveragePool supports dilation 1 only");
    }
  }

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    const TensorInfo& x = *in[0];
    if (!is_max_ || x.dtype != DType::kBits) check_.dtype(x, DType::kFloat32, "input");
    check_.rank(x, 4, "input");
    geom_.check_input(check_, x.shape[1], x.shape[2]);
    return {{x.dtype, {x.shape[0], geom_.out_h(x.shape[1]), geom_.out_w(x.shape[2]), x.shape[3]}}};
  }

  size_t scratch_bytes(const std::vector<const TensorInfo*>&) const override {
    return static_cast<size_t>(geom_.kh * geom_.kw) * sizeof(const float*);
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    const Shape& xs = in[0]->shape();
    const Shape& ys = out[0]->shape();
    const int64_t c = xs[3];
    parallel_for(ys[0] * ys[1], ctx.num_threads, [&](int64_t row, int thread) {
      const int64_t n = row / ys[1], oy = row % ys[1];
      const float** taps = reinterpret_cast<const float**>(ctx.thread_scratch(thread));
      if (!is_max_) return average_row(*in[0], n, oy, taps, out[0]->f32() + row * ys[2] * c);
      for (int64_t ox = 0; ox < ys[2]; ++ox) {
        const int64_t pixel = row * ys[2] + ox;
        if (in[0]->info.dtype == DType::kBits) {
          and_pixel(*in[0], n, oy, ox, out[0]->words() + pixel * words_for_bits(c));
        } else {
          pool_.max_rows(taps, point_taps(*in[0], n, oy, ox, taps), c, 1, 0,
                         out[0]->f32() + pixel * c);
        }
      }
    });
  }

 private:
  // Packed max: the AND of the words of the window's taps inside the image.
  void and_pixel(const Tensor& x, int64_t n, int64_t oy, int64_t ox, Word* y) const {
    const Shape& xs = x.shape();
    const int64_t words = words_for_bits(xs[3]);
    std::fill(y, y + words, ~Word{0});
    for (int64_t ky = 0; ky < geom_.kh; ++ky) {
      const int64_t iy = oy * geom_.stride_h - geom_.pad_top + ky * geom_.dilation_h;
      for (int64_t kx = 0; kx < geom_.kw; ++kx) {
        const int64_t ix = ox * geom_.stride_w - geom_.pad_left + kx * geom_.dilation_w;
        if (iy < 0 || iy >= xs[1] || ix < 0 || ix >= xs[2]) continue;
        const Word* src = x.words() + ((n * xs[1] + iy) * xs[2] + ix) * words;
        for (int64_t w = 0; w < words; ++w) y[w] &= src[w];
      }
    }
    y[words - 1] &= low_bits_mask(xs[3] - (words - 1) * kBitsPerWord);  // tail bits stay 0
  }

  // Points at the rows of the window's taps inside the image; returns how many.
  int64_t point_taps(const Tensor& x, int64_t n, int64_t oy, int64_t ox, const float** taps) const {
    const Shape& xs = x.shape();
    int64_t count = 0;
    for (int64_t ky = 0; ky < geom_.kh; ++ky) {
      const int64_t iy = oy * geom_.stride_h - geom_.pad_top + ky * geom_.dilation_h;
      if (iy < 0 || iy >= xs[1]) continue;
      for (int64_t kx = 0; kx < geom_.kw; ++kx) {
        const int64_t ix = ox * geom_.stride_w - geom_.pad_left + kx * geom_.dilation_w;
        if (ix >= 0 && ix < xs[2])
          taps[count++] = x.f32() + ((n * xs[1] + iy) * xs[2] + ix) * xs[3];
      }
    }
    return count;
  }

  // One pooled row of the mean: each pixel's taps inside the image, in window order, summed
  // and divided by ONNX's count (the taps inside; with count_include_pad the padded window, but
  // not the overhang ceil_mode adds). Columns whose windows lie inside the row's width share
  // the taps' layout and the count, so a run of them goes in one kernel call.
  void average_row(const Tensor& x, int64_t n, int64_t oy, const float** taps, float* y) const {
    const Shape& xs = x.shape();
    const int64_t c = xs[3], out_w = geom_.out_w(xs[2]);
    for (int64_t ox = 0; ox < out_w;) {
      const int64_t count = point_taps(x, n, oy, ox, taps);
      const int64_t columns = geom_.column_run(ox, xs[2]);
      const float divisor =
          static_cast<float>(count_include_pad_ ? padded_window(xs, oy, ox) : count);
      pool_.average_rows(taps, count, c, columns, geom_.stride_w * c, divisor, y + ox * c);
      ox += columns;
    }
  }

  // The window's cells inside the padded input, [-pad_begin, size + pad_end) on each axis
  // (count_include_pad counts pad cells, but not the overhang that ceil_mode adds).
  int64_t padded_window(const Shape& xs, int64_t oy, int64_t ox) const {
    const auto cells = [](int64_t first, int64_t k, int64_t end) {
      return std::clamp<int64_t>(end - first, 0, k);
    };
    return cells(oy * geom_.stride_h - geom_.pad_top, geom_.kh, xs[1] + geom_.pad_bottom) *
           cells(ox * geom_.stride_w - geom_.pad_left, geom_.kw, xs[2] + geom_.pad_right);
  }

  NodeChecker check_;
  ConvGeometry geom_;
  bool is_max_;
  PoolKernels pool_;
  bool count_include_pad_ = false;
};

class GlobalAveragePool final : public Op {
 public:
  explicit GlobalAveragePool(const OpArgs& args) : check_(args.node) {}

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    const TensorInfo& x = *in[0];
    check_.dtype(x, DType::kFloat32, "input");
    check_.rank(x, 4, "input");
    if (x.shape[1] * x.shape[2] < 1) check_.fail("input has no pixels");
    return {{DType::kFloat32, {x.shape[0], 1, 1, x.shape[3]}}};
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    const Shape& xs = in[0]->shape();
    const int64_t pixels = xs[1] * xs[2], c = xs[3];
    parallel_for(xs[0], ctx.num_threads, [&](int64_t n, int) {
      float* y = out[0]->f32() + n * c;
      std::fill(y, y + c, 0.0f);
      for (int64_t p = 0; p < pixels; ++p) {
        const float* src = in[0]->f32() + (n * pixels + p) * c;
        for (int64_t i = 0; i < c; ++i) y[i] += src[i];
      }
      for (int64_t i = 0; i < c; ++i) y[i] /= static_cast<float>(pixels);
    });
  }

 private:
  NodeChecker check_;
};

}  // namespace

std::unique_ptr<Op> create_max_pool(const OpArgs& a) { return std::make_unique<Pool>(a, true); }
std::unique_ptr<Op> create_average_pool(const OpArgs& a) {
  return std::make_unique<Pool>(a, false);
}
std::unique_ptr<Op> create_global_average_pool(const OpArgs& a) {
  return std::make_unique<GlobalAveragePool>(a);
}

}  // namespace xnorinfer
