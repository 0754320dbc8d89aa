#include "xnorinfer/ops/activation.h"

#include <cmath>
#include <string>

namespace xnorinfer {

Activation::Activation(const NodeChecker& check, const AttrMap& attrs, int64_t channels) {
  const std::string kind = attrs.get_string("activation", "none");
  if (kind == "none") return;
  if (kind == "relu") {
    kind_ = Kind::kRelu;
  } else if (kind == "clip") {
    kind_ = Kind::kClip;
    min_ = static_cast<float>(attrs.get_float("activation_min", -INFINITY));
    max_ = static_cast<float>(attrs.get_float("activation_max", INFINITY));
    if (!(min_ <= max_)) check.fail("activation_min must not exceed activation_max");
  } else if (kind == "prelu") {
    kind_ = Kind::kPRelu;
    const std::vector<double> slope = attrs.get_floats("activation_slope");
    if (slope.size() != 1 && static_cast<int64_t>(slope.size()) != channels) {
      check.fail("activation_slope must have 1 or " + std::to_string(channels) + " values, got " +
                 std::to_string(slope.size()));
    }
    slope_.resize(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
      slope_[c] = static_cast<float>(slope.size() == 1 ? slope[0] : slope[c]);
    }
  } else {
    check.fail("activation must be none, relu, clip or prelu, got '" + kind + "'");
  }
}

void Activation::apply(float* y, int64_t first, int64_t n) const {
  switch (kind_) {
    case Kind::kNone:
      return;
    case Kind::kRelu:  // as the Relu op: NaN passes through
      for (int64_t o = 0; o < n; ++o) y[o] = y[o] < 0.0f ? 0.0f : y[o];
      return;
    case Kind::kClip:
      for (int64_t o = 0; o < n; ++o) y[o] = y[o] < min_ ? min_ : (y[o] > max_ ? max_ : y[o]);
      return;
    case Kind::kPRelu: {
      const float* slope = slope_.data() + first;
      for (int64_t o = 0; o < n; ++o) y[o] = y[o] < 0.0f ? y[o] * slope[o] : y[o];
      return;
    }
  }
}

}  // namespace xnorinfer
