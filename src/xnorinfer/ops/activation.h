// An activation fused into a layer's float output (Relu, HardTanh/Clip, PRelu), applied last:
// after the scale, bias, K map and residual. Read from the node's `activation` attribute
// ("none", "relu", "clip" with `activation_min`/`activation_max`, "prelu" with
// `activation_slope`: one slope, or one per output channel).
#pragma once

#include <cstdint>
#include <vector>

#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {

class Activation {
 public:
  Activation() = default;
  Activation(const NodeChecker& check, const AttrMap& attrs, int64_t channels);

  bool none() const { return kind_ == Kind::kNone; }
  bool relu() const { return kind_ == Kind::kRelu; }

  // Applies to channels [first, first + n) of one output row (y[0] is channel `first`).
  void apply(float* y, int64_t first, int64_t n) const;

 private:
  enum class Kind { kNone, kRelu, kClip, kPRelu };
  Kind kind_ = Kind::kNone;
  float min_ = 0.0f, max_ = 0.0f;
  std::vector<float> slope_;  // per channel (a single slope is repeated)
};

}  // namespace xnorinfer
