#include "xnorinfer/ops/output_transform.h"

#include <limits>
#include <string>

#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/op_schema.h"

namespace xnorinfer {
namespace {

// The float test `(dot * scale + bias) + offset < 0` for one channel, evaluated exactly as the
// float path would.
bool negative(int32_t dot, float scale, float bias, float offset) {
  const float v = static_cast<float>(dot) * scale + bias;
  return v + offset < 0.0f;
}

// Integer thresholds with `negative(dot) == (dot < below || dot > above)` for every
// |dot| <= max_dot. The test is monotone in dot (float multiply by a constant and float adds
// are monotone), so each boundary is found by bisection.
void thresholds(float scale, float bias, float offset, int32_t max_dot, int32_t* below,
                int32_t* above) {
  constexpr int32_t kNever = std::numeric_limits<int32_t>::max();
  constexpr int32_t kAlways = std::numeric_limits<int32_t>::min();
  const bool at_low = negative(-max_dot, scale, bias, offset);
  const bool at_high = negative(max_dot, scale, bias, offset);
  if (at_low == at_high) {  // constant over the range
    *below = at_low ? kNever : kAlways;
    *above = kNever;
    return;
  }
  // Find the first dot where the test flips.
  int32_t lo = -max_dot, hi = max_dot;  // test(lo) == at_low, test(hi) != at_low
  while (hi - lo > 1) {
    const int32_t mid = lo + (hi - lo) / 2;
    (negative(mid, scale, bias, offset) == at_low ? lo : hi) = mid;
  }
  if (at_low) {  // negative below the flip: bit = dot < hi
    *below = hi;
    *above = kNever;
  } else {  // negative from the flip on: bit = dot > lo
    *below = kAlways;
    *above = lo;
  }
}

}  // namespace

OutputTransform::OutputTransform(Isa isa, int64_t channels, int64_t max_products,
                                 const float* scale, const float* bias, const float* post_scale,
                                 const float* post_bias, const float* out_offset)
    : scale_(scale),
      bias_(bias),
      post_scale_(post_scale),
      post_bias_(post_bias),
      out_offset_(out_offset) {
  const OutputKernels kernels = select_output(isa);
  to_float_ = kernels.to_float;
  to_bits_ = kernels.to_bits;
  if (out_offset_ && !post_scale_) {
    below_.resize(static_cast<size_t>(channels));
    above_.resize(static_cast<size_t>(channels));
    for (int64_t o = 0; o < channels; ++o) {
      thresholds(scale[o], bias[o], out_offset[o], static_cast<int32_t>(max_products), &below_[o],
                 &above_[o]);
    }
  }
}

float OutputTransform::value(int64_t o, int32_t dot, float k) const {
  float v = static_cast<float>(dot) * scale_[o] + bias_[o];
  if (post_scale_) v = (v * k) * post_scale_[o] + post_bias_[o];
  return v;
}

void OutputTransform::write(const int32_t* counts, int32_t products, int64_t first, int64_t n,
                            float k, float* out_f32, Word* out_bits) const {
  if (!post_scale_) {
    if (out_offset_) {
      to_bits_(counts, products, n, below_.data() + first, above_.data() + first, out_bits);
    } else {
      to_float_(counts, products, n, scale_ + first, bias_ + first, out_f32);
    }
    return;
  }
  // With the K map the threshold depends on K: evaluate the float formula per channel.
  if (!out_offset_) {
    for (int64_t o = 0; o < n; ++o) out_f32[o] = value(first + o, products - 2 * counts[o], k);
    return;
  }
  for (int64_t w = 0; w < words_for_bits(n); ++w) {
    Word word = 0;
    const int64_t end = n - w * kBitsPerWord < kBitsPerWord ? n : (w + 1) * kBitsPerWord;
    for (int64_t o = w * kBitsPerWord; o < end; ++o) {
      const float v = value(first + o, products - 2 * counts[o], k);
      word |= Word{v + out_offset_[first + o] < 0.0f} << (o % kBitsPerWord);
    }
    out_bits[w] = word;
  }
}

OutputTransform make_output_transform(const NodeChecker& check, const OpArgs& args,
                                      int64_t channels, int64_t max_products, bool with_kmap) {
  const OpSchema& schema = op_schema(args.node.op);  // the layer's slots, by name
  const int scale_slot = schema.input("scale"), bias_slot = schema.input("bias");
  const int offset_slot = schema.input("out_offset");
  const int post_scale_slot = schema.input("post_scale"),
            post_bias_slot = schema.input("post_bias");
  const float* scale = check.float_vector(args, scale_slot, channels, "scale");
  const float* bias = check.float_vector(args, bias_slot, channels, "bias");
  const std::string output = args.node.attrs.get_string("output", "float");
  if (output != "float" && output != "bits") check.fail("output must be 'float' or 'bits'");
  if ((output == "bits") != check.has_input(offset_slot)) {
    check.fail("out_offset must be given exactly when output is 'bits'");
  }
  const float* out_offset =
      output == "bits" ? check.float_vector(args, offset_slot, channels, "out_offset") : nullptr;
  const float* post_scale = nullptr;
  const float* post_bias = nullptr;
  if (with_kmap) {
    post_scale = check.float_vector(args, post_scale_slot, channels, "post_scale");
    post_bias = check.float_vector(args, post_bias_slot, channels, "post_bias");
  } else if (check.has_input(post_scale_slot) || check.has_input(post_bias_slot)) {
    check.fail("post_scale/post_bias are only used with kmap_src");
  }
  return OutputTransform(args.isa, channels, max_products, scale, bias, post_scale, post_bias,
                         out_offset);
}

}  // namespace xnorinfer
