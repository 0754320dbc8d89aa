// From a binary layer's integer dot product to its output, in one place.
//
//   dot  = sum of a * w over the valid ±1 products (an integer, exact on every kernel path)
//   v    = dot * scale[o] + bias[o]                     alpha and a folded BatchNorm
//   v    = (v * K) * post_scale[o] + post_bias[o]       only with the XNOR-Net K map (or β)
//   out  = v                                            float output, or
//   bit  = (v + out_offset[o]) < 0                      packed output (BatchNorm + Sign fused)
//
// Each step is a separate float multiply or add (kernels build with -ffp-contract=off), so
// every ISA path and thread count rounds identically. Without the K map, the packed output's
// float test is a monotone function of the integer dot, so it is replaced, exactly, by
// per-channel integer thresholds found once at creation (`bit = dot < below || dot > above`).
#pragma once

#include <cstdint>
#include <vector>

#include "xnorinfer/base/bits.h"
#include "xnorinfer/cpu/isa.h"
#include "xnorinfer/kernels/output/output.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {

class OutputTransform {
 public:
  OutputTransform() = default;
  // Pointers are per-channel vectors of `channels` floats that outlive the transform;
  // post_scale/post_bias only with the K map, out_offset only for packed output.
  // `max_products` bounds |dot|.
  OutputTransform(Isa isa, int64_t channels, int64_t max_products, const float* scale,
                  const float* bias, const float* post_scale, const float* post_bias,
                  const float* out_offset);

  bool packed() const { return out_offset_ != nullptr; }
  // Float output without the K map: out = dot * scale + bias, which a kernel can write itself.
  bool plain_float() const { return !out_offset_ && !post_scale_; }
  const float* scale() const { return scale_; }
  const float* bias() const { return bias_; }

  // Writes channels [first, first + n) of one output position from its counts of differing
  // bits (counts[0] belongs to channel `first`): dot = products - 2 * count. `k` is the K map
  // value at this position (ignored without the K map). For packed output, `first` must be a
  // multiple of 64 and out_bits points at the word holding channel `first`.
  void write(const int32_t* counts, int32_t products, int64_t first, int64_t n, float k,
             float* out_f32, Word* out_bits) const;

 private:
  float value(int64_t o, int32_t dot, float k) const;

  const float* scale_ = nullptr;
  const float* bias_ = nullptr;
  const float* post_scale_ = nullptr;
  const float* post_bias_ = nullptr;
  const float* out_offset_ = nullptr;
  std::vector<int32_t> below_, above_;
  DotToFloatFn to_float_ = nullptr;
  DotToBitsFn to_bits_ = nullptr;
};

// The transform of a BinaryConv2d / BinaryDense node, from its inputs scale, bias, out_offset
// (exactly when attr output is "bits") and, with the K map or β, post_scale and post_bias (found
// by name in the op's schema); see docs/ir.md.
OutputTransform make_output_transform(const NodeChecker& check, const OpArgs& args,
                                      int64_t channels, int64_t max_products, bool with_kmap);

}  // namespace xnorinfer
