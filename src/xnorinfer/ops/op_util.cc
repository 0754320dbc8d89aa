#include "xnorinfer/ops/op_util.h"

#include "xnorinfer/base/errors.h"

namespace xnorinfer {

void NodeChecker::fail(const std::string& message) const {
  throw InvalidModel("node '" + node_.name + "' (" + node_.op + "): " + message);
}

void NodeChecker::fail_input(const std::string& message) const {
  throw InvalidArgument("node '" + node_.name + "' (" + node_.op + "): " + message);
}

bool NodeChecker::has_input(size_t index) const {
  return index < node_.inputs.size() && !node_.inputs[index].empty();
}

bool NodeChecker::nchw_layout(const std::string& key) const {
  const std::string layout = node_.attrs.get_string(key, "nhwc");
  if (layout != "nhwc" && layout != "nchw") {
    fail(key + " must be 'nhwc' or 'nchw', got '" + layout + "'");
  }
  return layout == "nchw";
}

const Tensor& NodeChecker::constant(const OpArgs& args, size_t index, DType dtype,
                                    const char* what) const {
  if (!has_input(index) || args.constants[index] == nullptr) {
    fail(std::string(what) + " (input " + std::to_string(index) + ") must be a constant");
  }
  const Tensor& t = *args.constants[index];
  if (t.info.dtype != dtype) {
    fail(std::string(what) + " must be " + to_string(dtype) + ", got " + to_string(t.info.dtype));
  }
  return t;
}

const float* NodeChecker::float_vector(const OpArgs& args, size_t index, int64_t size,
                                       const char* what) const {
  const Tensor& t = constant(args, index, DType::kFloat32, what);
  if (num_elements(t.shape()) != size) {
    fail(std::string(what) + " must have " + std::to_string(size) + " values, got shape " +
         to_string(t.shape()));
  }
  return t.f32();
}

void NodeChecker::rank(const TensorInfo& info, size_t rank, const char* what) const {
  if (info.shape.size() != rank) {
    fail(std::string(what) + " must have rank " + std::to_string(rank) + ", got shape " +
         to_string(info.shape));
  }
}

void NodeChecker::dtype(const TensorInfo& info, DType dtype, const char* what) const {
  if (info.dtype != dtype) {
    fail(std::string(what) + " must be " + to_string(dtype) + ", got " + to_string(info.dtype));
  }
}

}  // namespace xnorinfer
