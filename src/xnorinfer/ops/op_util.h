// Validation helpers shared by the op factories and shape functions. Every message names the
// node and its op, then states the rule that was broken.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xnorinfer/base/tensor.h"
#include "xnorinfer/ops/op.h"

namespace xnorinfer {

class NodeChecker {
 public:
  explicit NodeChecker(const NodeDef& node) : node_(node) {}

  [[noreturn]] void fail(const std::string& message) const;
  // The same naming for a problem with the values a run was given (InvalidArgument).
  [[noreturn]] void fail_input(const std::string& message) const;

  bool has_input(size_t index) const;

  // Whether the layout attribute `key` ("input_layout", "output_layout") is "nchw"; absent, it
  // is "nhwc"; anything else fails.
  bool nchw_layout(const std::string& key) const;

  // The constant at input `index`, which must exist, with the given dtype and element count
  // (storage elements: words for bits); shape is not otherwise constrained.
  const Tensor& constant(const OpArgs& args, size_t index, DType dtype, const char* what) const;
  const float* float_vector(const OpArgs& args, size_t index, int64_t size, const char* what) const;

  void rank(const TensorInfo& info, size_t rank, const char* what) const;
  void dtype(const TensorInfo& info, DType dtype, const char* what) const;

 private:
  const NodeDef& node_;
};

}  // namespace xnorinfer
