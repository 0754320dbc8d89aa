#include "xnorinfer/ops/binary_epilogue.h"

#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/op_schema.h"

namespace xnorinfer {

BinaryEpilogue::BinaryEpilogue(const NodeChecker& check, const OpArgs& args, int64_t channels,
                               int64_t max_products, bool with_scaling) {
  transform_ = make_output_transform(check, args, channels, max_products, with_scaling);
  activation_ = Activation(check, args.node.attrs, channels);
  if (!activation_.none() && transform_.packed()) check.fail("an activation needs a float output");
  const OpSchema& schema = op_schema(args.node.op);
  const int residual = schema.find_input("residual");
  residual_ = residual >= 0 && check.has_input(residual);
  if (residual_ && (transform_.packed() || args.constants[residual])) {
    check.fail("a residual is added to a float output, from a computed value");
  }
  const int sum_offset = schema.find_input("sum_offset");
  const bool sum_bits = args.node.outputs.size() == 2 && !args.node.outputs[1].empty();
  const bool has_offset = sum_offset >= 0 && check.has_input(sum_offset);
  if (sum_bits != has_offset || (sum_bits && transform_.packed())) {
    check.fail("a second (packed) output needs sum_offset and a float first output");
  }
  if (sum_bits) {
    sum_offset_ = check.float_vector(args, sum_offset, channels, "sum_offset");
    sum_threshold_.assign(sum_offset_, sum_offset_ + channels);
    for (float& t : sum_threshold_) t = -t;
    bitpack_ = select_bitpack(args.isa);
    sum_words_ = words_for_bits(channels);
  }
}

void BinaryEpilogue::write(const int32_t* counts, int32_t products, int64_t o0, int64_t width,
                           float k, float* y_row, Word* bits_row, const float* residual_row,
                           Word* sum_row) const {
  transform_.write(counts, products, o0, width, k, y_row, bits_row);
  if (!y_row) return;
  if (residual_) {
    const float* r = residual_row + o0;
    for (int64_t o = 0; o < width; ++o) y_row[o] += r[o];
  }
  activation_.apply(y_row, o0, width);
  if (sum_offset_) {  // the sum's signs for the next binary layer, while the row is hot
    bitpack_(y_row, 1, width, width, nullptr, nullptr, sum_offset_ + o0,
             sum_row + o0 / kBitsPerWord, nullptr, sum_words_, nullptr);
  }
}

}  // namespace xnorinfer
