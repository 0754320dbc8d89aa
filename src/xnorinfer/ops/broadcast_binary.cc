// Add, Sub, Mul, Div with numpy broadcasting on float tensors.
#include <algorithm>

#include "xnorinfer/base/parallel.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {
namespace {

enum class Kind { kAdd, kSub, kMul, kDiv };

// Element strides of `shape` aligned right to `rank` axes, 0 on broadcast axes.
std::vector<int64_t> broadcast_strides(const Shape& shape, size_t rank) {
  std::vector<int64_t> strides(rank, 0);
  int64_t stride = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    const size_t axis = rank - 1 - i;
    const int64_t extent = shape[shape.size() - 1 - i];
    strides[axis] = extent == 1 ? 0 : stride;
    stride *= extent;
  }
  return strides;
}

class BroadcastBinary final : public Op {
 public:
  BroadcastBinary(const OpArgs& args, Kind kind) : check_(args.node), kind_(kind) {}

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    const Shape& a = in[0]->shape;
    const Shape& b = in[1]->shape;
    check_.dtype(*in[0], DType::kFloat32, "input A");
    check_.dtype(*in[1], DType::kFloat32, "input B");
    const size_t rank = std::max(a.size(), b.size());
    Shape out(rank);
    for (size_t i = 0; i < rank; ++i) {
      const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
      const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
      if (da != db && da != 1 && db != 1) {
        check_.fail("shapes " + to_string(a) + " and " + to_string(b) + " do not broadcast");
      }
      out[i] = da == 1 ? db : da;
    }
    return {{DType::kFloat32, out}};
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    switch (kind_) {
      case Kind::kAdd:
        return run_kind<Kind::kAdd>(in, out, ctx);
      case Kind::kSub:
        return run_kind<Kind::kSub>(in, out, ctx);
      case Kind::kMul:
        return run_kind<Kind::kMul>(in, out, ctx);
      case Kind::kDiv:
        return run_kind<Kind::kDiv>(in, out, ctx);
    }
  }

 private:
  template <Kind K>
  static float apply(float a, float b) {
    if constexpr (K == Kind::kAdd) return a + b;
    if constexpr (K == Kind::kSub) return a - b;
    if constexpr (K == Kind::kMul) return a * b;
    return a / b;
  }

  // The kind is a template argument so each inner loop below is branch-free and vectorizes.
  template <Kind K>
  void run_kind(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                const RunContext& ctx) const {
    const Shape& ys = out[0]->shape();
    const size_t rank = ys.size();
    if (rank == 0) {
      out[0]->f32()[0] = apply<K>(in[0]->f32()[0], in[1]->f32()[0]);
      return;
    }
    const std::vector<int64_t> sa = broadcast_strides(in[0]->shape(), rank);
    const std::vector<int64_t> sb = broadcast_strides(in[1]->shape(), rank);
    const int64_t inner = ys.back();
    const int64_t outer = num_elements(ys) / std::max<int64_t>(inner, 1);
    parallel_for(outer, ctx.num_threads, [&](int64_t row, int) {
      int64_t oa = 0, ob = 0, rest = row;
      for (size_t axis = rank - 1; axis-- > 0;) {
        const int64_t idx = rest % ys[axis];
        rest /= ys[axis];
        oa += idx * sa[axis];
        ob += idx * sb[axis];
      }
      const float* a = in[0]->f32() + oa;
      const float* b = in[1]->f32() + ob;
      float* y = out[0]->f32() + row * inner;
      const int64_t ia = sa[rank - 1], ib = sb[rank - 1];
      // Contiguous or broadcast inner rows get their own loops, so they vectorize.
      if (ia == 1 && ib == 1) {
        for (int64_t i = 0; i < inner; ++i) y[i] = apply<K>(a[i], b[i]);
      } else if (ia == 1 && ib == 0) {
        for (int64_t i = 0; i < inner; ++i) y[i] = apply<K>(a[i], b[0]);
      } else if (ia == 0 && ib == 1) {
        for (int64_t i = 0; i < inner; ++i) y[i] = apply<K>(a[0], b[i]);
      } else {
        for (int64_t i = 0; i < inner; ++i) y[i] = apply<K>(a[i * ia], b[i * ib]);
      }
    });
  }

 private:
  NodeChecker check_;
  Kind kind_;
};

}  // namespace

std::unique_ptr<Op> create_add(const OpArgs& a) {
  return std::make_unique<BroadcastBinary>(a, Kind::kAdd);
}
std::unique_ptr<Op> create_sub(const OpArgs& a) {
  return std::make_unique<BroadcastBinary>(a, Kind::kSub);
}
std::unique_ptr<Op> create_mul(const OpArgs& a) {
  return std::make_unique<BroadcastBinary>(a, Kind::kMul);
}
std::unique_ptr<Op> create_div(const OpArgs& a) {
  return std::make_unique<BroadcastBinary>(a, Kind::kDiv);
}

}  // namespace xnorinfer
