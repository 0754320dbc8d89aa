// Factories of every op, one per op file; the schema table (op_schema.cc) names each op's.
#pragma once

#include <memory>

#include "xnorinfer/ops/op.h"

namespace xnorinfer {

std::unique_ptr<Op> create_binarize_pack(const OpArgs& args);
std::unique_ptr<Op> create_binary_conv2d(const OpArgs& args);
std::unique_ptr<Op> create_binary_dense(const OpArgs& args);
std::unique_ptr<Op> create_bwn_conv2d(const OpArgs& args);
std::unique_ptr<Op> create_bwn_dense(const OpArgs& args);
std::unique_ptr<Op> create_conv2d(const OpArgs& args);
std::unique_ptr<Op> create_dense(const OpArgs& args);
std::unique_ptr<Op> create_channel_affine(const OpArgs& args);
std::unique_ptr<Op> create_relu(const OpArgs& args);
std::unique_ptr<Op> create_prelu(const OpArgs& args);
std::unique_ptr<Op> create_clip(const OpArgs& args);
std::unique_ptr<Op> create_sign(const OpArgs& args);
std::unique_ptr<Op> create_sigmoid(const OpArgs& args);
std::unique_ptr<Op> create_tanh(const OpArgs& args);
std::unique_ptr<Op> create_max_pool(const OpArgs& args);
std::unique_ptr<Op> create_average_pool(const OpArgs& args);
std::unique_ptr<Op> create_global_average_pool(const OpArgs& args);
std::unique_ptr<Op> create_add(const OpArgs& args);
std::unique_ptr<Op> create_sub(const OpArgs& args);
std::unique_ptr<Op> create_mul(const OpArgs& args);
std::unique_ptr<Op> create_div(const OpArgs& args);
std::unique_ptr<Op> create_concat(const OpArgs& args);
std::unique_ptr<Op> create_reshape(const OpArgs& args);
std::unique_ptr<Op> create_transpose(const OpArgs& args);
std::unique_ptr<Op> create_softmax(const OpArgs& args);
std::unique_ptr<Op> create_log_softmax(const OpArgs& args);

}  // namespace xnorinfer
