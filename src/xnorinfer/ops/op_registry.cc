// The one table from op name to factory. Adding an op: its file in ops/, a line in
// op_registry.h, a line here, the converter's lowering, and a test.
#include "xnorinfer/ops/op_registry.h"

#include <utility>

#include "xnorinfer/base/errors.h"

namespace xnorinfer {
namespace {

const std::pair<const char*, OpFactory> kOps[] = {
    {"BinarizePack", &create_binarize_pack},
    {"BinaryConv2d", &create_binary_conv2d},
    {"BinaryDense", &create_binary_dense},
    {"BwnConv2d", &create_bwn_conv2d},
    {"BwnDense", &create_bwn_dense},
    {"Conv2d", &create_conv2d},
    {"Dense", &create_dense},
    {"ChannelAffine", &create_channel_affine},
    {"Relu", &create_relu},
    {"PRelu", &create_prelu},
    {"Clip", &create_clip},
    {"Sign", &create_sign},
    {"Sigmoid", &create_sigmoid},
    {"Tanh", &create_tanh},
    {"MaxPool", &create_max_pool},
    {"AveragePool", &create_average_pool},
    {"GlobalAveragePool", &create_global_average_pool},
    {"Add", &create_add},
    {"Sub", &create_sub},
    {"Mul", &create_mul},
    {"Div", &create_div},
    {"Concat", &create_concat},
    {"Reshape", &create_reshape},
    {"Transpose", &create_transpose},
    {"Softmax", &create_softmax},
    {"LogSoftmax", &create_log_softmax},
};

}  // namespace

OpFactory find_op(const std::string& op) {
  for (const auto& [name, factory] : kOps) {
    if (op == name) return factory;
  }
  throw InvalidModel("unknown op '" + op + "'");
}

std::vector<std::string> list_ops() {
  std::vector<std::string> names;
  for (const auto& entry : kOps) names.emplace_back(entry.first);
  return names;
}

}  // namespace xnorinfer
