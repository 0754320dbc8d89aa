// Data-movement ops: Concat, Reshape, Transpose (float; Reshape also moves packed bits when the
// last axis is unchanged, since the packed storage is then identical).
#include <algorithm>
#include <cstring>

#include "xnorinfer/base/parallel.h"
#include "xnorinfer/graph/limits.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {
namespace {

constexpr int64_t kMaxRank = 8;

class Concat final : public Op {
 public:
  explicit Concat(const OpArgs& args) : check_(args.node) {
    for (size_t i = 0; i < args.node.inputs.size(); ++i) {
      if (!check_.has_input(i)) check_.fail("input " + std::to_string(i) + " is empty");
    }
    axis_ = args.node.attrs.get_int("axis");
    if (axis_ < 0 || axis_ >= kMaxRank) check_.fail("axis must be in [0, 8)");
  }

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    Shape out = in[0]->shape;
    if (static_cast<size_t>(axis_) >= out.size()) check_.fail("axis is past the input rank");
    out[axis_] = 0;
    for (const TensorInfo* t : in) {
      check_.dtype(*t, DType::kFloat32, "input");
      bool fits = t->shape.size() == out.size();
      for (size_t i = 0; fits && i < out.size(); ++i) {
        fits = static_cast<int64_t>(i) == axis_ || t->shape[i] == in[0]->shape[i];
      }
      if (!fits)
        check_.fail("inputs " + to_string(in[0]->shape) + " and " + to_string(t->shape) +
                    " differ outside axis " + std::to_string(axis_));
      out[axis_] += t->shape[axis_];
    }
    return {{DType::kFloat32, out}};
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext&) const override {
    const Shape& ys = out[0]->shape();
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < axis_; ++i) outer *= ys[i];
    for (size_t i = axis_ + 1; i < ys.size(); ++i) inner *= ys[i];
    int64_t offset = 0;
    for (const Tensor* t : in) {
      const int64_t chunk = t->shape()[axis_] * inner;
      for (int64_t o = 0; o < outer; ++o) {
        std::memcpy(out[0]->f32() + o * ys[axis_] * inner + offset, t->f32() + o * chunk,
                    chunk * sizeof(float));
      }
      offset += chunk;
    }
  }

 private:
  NodeChecker check_;
  int64_t axis_ = 0;
};

class Reshape final : public Op {
 public:
  explicit Reshape(const OpArgs& args) : check_(args.node) {
    shape_ = args.node.attrs.get_ints("shape");
    if (shape_.size() > kMaxRank) check_.fail("shape has more than 8 axes");
    // Each extent's bounds: op_schema.cc.
    if (std::count(shape_.begin(), shape_.end(), -1) > 1) check_.fail("shape has more than one -1");
  }

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    const TensorInfo& x = *in[0];
    Shape out = shape_;
    const int64_t total = num_elements(x.shape);
    int64_t known = 1, infer_axis = -1;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == 0) {
        if (i >= x.shape.size())
          check_.fail("shape copies axis " + std::to_string(i) + " the input lacks");
        out[i] = x.shape[i];
      }
      if (out[i] == -1) {
        infer_axis = static_cast<int64_t>(i);
      } else if (__builtin_mul_overflow(known, out[i], &known)) {
        check_.fail("cannot reshape " + to_string(x.shape) + " to " + to_string(out));
      }
    }
    if (infer_axis >= 0) {
      if (known == 0 || total % known != 0)
        check_.fail("cannot infer -1 reshaping " + to_string(x.shape));
      out[infer_axis] = total / known;
    }
    if (num_elements(out) != total) {
      check_.fail("cannot reshape " + to_string(x.shape) + " to " + to_string(out));
    }
    if (x.packed() && (out.empty() || x.shape.empty() || out.back() != x.shape.back())) {
      check_.fail("a packed tensor can only be reshaped with its last axis unchanged");
    }
    return {{x.dtype, out}};
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext&) const override {
    std::memcpy(out[0]->data, in[0]->data, in[0]->info.storage_bytes());
  }

 private:
  NodeChecker check_;
  std::vector<int64_t> shape_;
};

class Transpose final : public Op {
 public:
  explicit Transpose(const OpArgs& args)
      : check_(args.node),
        interleave_(select_interleave(args.isa)),
        transpose_tile_(select_transpose(args.isa)) {
    perm_ = args.node.attrs.get_ints("perm");
    std::vector<int64_t> sorted = perm_;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i) {
      if (sorted[i] != static_cast<int64_t>(i)) check_.fail("perm is not a permutation");
    }
    if (perm_.size() > kMaxRank) check_.fail("perm has more than 8 axes");
  }

  // Its loops and the interleaving kernels read each input float once, unaligned loads only:
  // an NCHW image input is read where the caller has it.
  bool reads_exactly_its_inputs() const override { return true; }
  // And write each output float once, the tile kernels with unaligned stores and only whole
  // tiles (edges go to the portable loop): a network's NCHW output goes to the caller's array.
  bool writes_exactly_its_outputs() const override { return true; }

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    const TensorInfo& x = *in[0];
    check_.dtype(x, DType::kFloat32, "input");
    check_.rank(x, perm_.size(), "input");
    Shape out(perm_.size());
    for (size_t i = 0; i < perm_.size(); ++i) out[i] = x.shape[perm_[i]];
    return {{DType::kFloat32, out}};
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    const Shape& xs = in[0]->shape();
    const Shape& ys = out[0]->shape();
    const size_t rank = ys.size();
    if (rank == 0) {
      out[0]->f32()[0] = in[0]->f32()[0];
      return;
    }
    int64_t batch, matrix_rows, matrix_cols;
    if (as_batched_matrix_transpose(xs, &batch, &matrix_rows, &matrix_cols)) {
      transpose_tiles(in[0]->f32(), batch, matrix_rows, matrix_cols, out[0]->f32(), ctx);
      return;
    }
    // Walk the input in memory order (contiguous reads of its last axis) and scatter into the
    // output: the NCHW -> NHWC transpose of an image reads whole rows instead of 3 floats.
    int64_t y_strides[kMaxRank];
    y_strides[rank - 1] = 1;
    for (size_t i = rank - 1; i-- > 0;) y_strides[i] = y_strides[i + 1] * ys[i + 1];
    int64_t stride_of_input_axis[kMaxRank];
    for (size_t i = 0; i < rank; ++i) stride_of_input_axis[perm_[i]] = y_strides[i];
    const int64_t inner = xs[rank - 1];
    const int64_t inner_stride = stride_of_input_axis[rank - 1];
    const int64_t rows = num_elements(xs) / std::max<int64_t>(inner, 1);
    parallel_for(rows, ctx.num_threads, [&](int64_t row, int) {
      int64_t dst = 0, rest = row;
      for (size_t axis = rank - 1; axis-- > 0;) {
        dst += (rest % xs[axis]) * stride_of_input_axis[axis];
        rest /= xs[axis];
      }
      const float* x = in[0]->f32() + row * inner;
      float* y = out[0]->f32() + dst;
      for (int64_t i = 0; i < inner; ++i) y[i * inner_stride] = x[i];
    });
  }

 private:
  // True when the permutation, once runs of axes that stay adjacent are merged, swaps the last
  // two of (batch, rows, cols): NCHW <-> NHWC of an image is [N, C, H*W] <-> [N, H*W, C].
  bool as_batched_matrix_transpose(const Shape& xs, int64_t* batch, int64_t* rows,
                                   int64_t* cols) const {
    std::vector<int64_t> extent;  // of each merged run, in output order
    std::vector<int64_t> first;   // its first input axis
    for (size_t i = 0; i < perm_.size(); ++i) {
      if (i > 0 && perm_[i] == perm_[i - 1] + 1) {
        extent.back() *= xs[perm_[i]];
      } else {
        extent.push_back(xs[perm_[i]]);
        first.push_back(perm_[i]);
      }
    }
    const size_t runs = extent.size();
    // Output runs (batch, B, A) must be input runs in the order (batch, A, B).
    if (runs == 2 && first[0] > first[1]) {
      *batch = 1;
    } else if (runs == 3 && first[0] == 0 && first[1] > first[2]) {
      *batch = extent[0];
    } else {
      return false;
    }
    *cols = extent[runs - 2];  // the input's rows are the output's columns
    *rows = extent[runs - 1];
    return true;
  }

  // y[b][j][i] = x[b][i][j] for x [batch, rows, cols], in square tiles by the tile transpose
  // kernel, so both sides move whole cache lines (a scatter of 64-channel pixels into planes
  // touched a line per float); up to kMaxInterleavedPlanes rows (an image's 3 channels into
  // NHWC) by the interleaving kernel, one pass along the columns. Tasks are bands of tiles
  // along both axes.
  void transpose_tiles(const float* x, int64_t batch, int64_t rows, int64_t cols, float* y,
                       const RunContext& ctx) const {
    constexpr int64_t kTile = kTransposeTile;
    constexpr int64_t kBandCols = 64 * kTile;
    const int64_t row_tiles = (rows + kTile - 1) / kTile;
    const int64_t col_bands = (cols + kBandCols - 1) / kBandCols;
    parallel_for(batch * row_tiles * col_bands, ctx.num_threads, [&](int64_t task, int) {
      const int64_t b = task / (row_tiles * col_bands);
      const int64_t i0 = (task / col_bands % row_tiles) * kTile;
      const int64_t i1 = std::min(i0 + kTile, rows);
      const int64_t band = (task % col_bands) * kBandCols;
      const int64_t band_end = std::min(band + kBandCols, cols);
      const float* xb = x + b * rows * cols;
      float* yb = y + b * rows * cols;
      if (rows <= kMaxInterleavedPlanes) {
        interleave_(xb, rows, cols, band, band_end, yb);
        return;
      }
      transpose_matrix(transpose_tile_, xb + i0 * cols + band, cols, i1 - i0, band_end - band,
                       yb + band * rows + i0, rows);
    });
  }

  NodeChecker check_;
  InterleaveFn interleave_;
  TransposeTileFn transpose_tile_;
  std::vector<int64_t> perm_;
};

}  // namespace

std::unique_ptr<Op> create_concat(const OpArgs& a) { return std::make_unique<Concat>(a); }
std::unique_ptr<Op> create_reshape(const OpArgs& a) { return std::make_unique<Reshape>(a); }
std::unique_ptr<Op> create_transpose(const OpArgs& a) { return std::make_unique<Transpose>(a); }

}  // namespace xnorinfer
