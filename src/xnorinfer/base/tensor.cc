#include "xnorinfer/base/tensor.h"

#include "xnorinfer/base/errors.h"

namespace xnorinfer {

const char* to_string(DType dtype) {
  switch (dtype) {
    case DType::kBits:
      return "bits";
    case DType::kTernary:
      return "ternary";
    default:
      return "float32";
  }
}

DType parse_dtype(const std::string& name) {
  if (name == "float32") return DType::kFloat32;
  if (name == "bits") return DType::kBits;
  if (name == "ternary") return DType::kTernary;
  throw InvalidModel("unknown dtype '" + name + "' (expected float32, bits or ternary)");
}

int64_t TensorInfo::last_axis_storage() const {
  if (shape.empty()) return 1;
  if (dtype == DType::kFloat32) return shape.back();
  return (dtype == DType::kTernary ? 2 : 1) * words_for_bits(shape.back());
}

int64_t TensorInfo::num_rows() const {
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  return rows;
}

int64_t TensorInfo::storage_bytes() const {
  const int64_t item = packed() ? int64_t{sizeof(Word)} : int64_t{sizeof(float)};
  return num_rows() * last_axis_storage() * item;
}

}  // namespace xnorinfer
