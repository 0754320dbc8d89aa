// What a binary layer (BinaryConv2d, BinaryDense) does after its XNOR + popcount, per output
// row: the output transform (output_transform.h: scale and bias, the K map's or β's
// post-scale, or packed bits), then a residual, the activation, and the sum's packed signs for
// the next binary layer. One object, built from the node (its inputs found by their names in
// the op schema), so both layers check and apply it the same way. Its plain float case is what
// the bconv kernels write themselves from their registers (fused()).
#pragma once

#include <cstdint>
#include <vector>

#include "xnorinfer/base/bits.h"
#include "xnorinfer/kernels/bconv/bconv.h"
#include "xnorinfer/kernels/bitpack/bitpack.h"
#include "xnorinfer/ops/activation.h"
#include "xnorinfer/ops/op.h"
#include "xnorinfer/ops/op_util.h"
#include "xnorinfer/ops/output_transform.h"

namespace xnorinfer {

class BinaryEpilogue {
 public:
  BinaryEpilogue() = default;
  // `max_products` bounds |dot|; `with_scaling`: the layer has a K map or β source, so
  // post_scale and post_bias are used. A residual and a sum's packed signs are read from the
  // node's "residual" and "sum_offset" inputs where its op has them.
  BinaryEpilogue(const NodeChecker& check, const OpArgs& args, int64_t channels,
                 int64_t max_products, bool with_scaling);

  bool packed() const { return transform_.packed(); }
  bool with_residual() const { return residual_; }
  bool with_sum_bits() const { return sum_offset_ != nullptr; }

  // Whether the bconv kernels can write the whole epilogue: a float output without post-scale,
  // and no activation or a relu.
  bool kernel_writes() const {
    return transform_.plain_float() && (activation_.none() || activation_.relu());
  }

  // The kernels' description of it (bconv.h) for output channels [o, o + channels) of the rows
  // a kernel call writes, each with its products, output row, residual row and sum row.
  BconvFloatOutput fused(const int32_t* products, float* const* out, int64_t o, int64_t channels,
                         const float* const* residual, Word* const* sum_rows) const {
    return {products,
            out,
            o,
            transform_.scale() + o,
            transform_.bias() + o,
            channels,
            residual_ ? residual : nullptr,
            activation_.relu(),
            sum_offset_ ? sum_threshold_.data() + o : nullptr,
            sum_rows};
  }

  // Channels [o0, o0 + width) of one row from its counts (counts[0] is channel o0): y_row (the
  // row's channel o0) or, packed, bits_row (the word of channel o0); `k` the row's K map or β
  // value. residual_row and sum_row are the row's whole rows (or nullptr without them).
  void write(const int32_t* counts, int32_t products, int64_t o0, int64_t width, float k,
             float* y_row, Word* bits_row, const float* residual_row, Word* sum_row) const;

 private:
  OutputTransform transform_;
  Activation activation_;
  bool residual_ = false;
  const float* sum_offset_ = nullptr;  // non-null when the sum's packed signs are written
  std::vector<float> sum_threshold_;   // -sum_offset, as the kernels compare (bconv.h)
  BitpackFn bitpack_ = nullptr;
  int64_t sum_words_ = 0;  // words of a row of the sum's signs
};

}  // namespace xnorinfer
