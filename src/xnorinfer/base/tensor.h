// Tensor: a dtype, a logical shape (engine order) and a pointer to storage it does not own.
// A packed constant (uint64 words from the model file) has the logical shape of its word array
// with the last axis counted in bits (words * 64); the op that uses it knows the real count.
//
// float32 tensors are dense row-major. bits tensors pack the last logical axis into
// ceil(C/64) uint64 words (see bits.h), so their storage shape is [..., words_for_bits(C)].
// ternary tensors hold ONNX Sign's {-1, 0, +1}: each row is two planes of words_for_bits(C)
// words, first the sign bits (as bits), then the nonzero mask (bit 1 = the value is not 0;
// a 0 has sign bit 0), so their storage shape is [..., 2 * words_for_bits(C)].
#pragma once

#include <cstdint>
#include <string>

#include "xnorinfer/base/bits.h"
#include "xnorinfer/base/shape.h"

namespace xnorinfer {

enum class DType { kFloat32, kBits, kTernary };

const char* to_string(DType dtype);

// Parses "float32", "bits" or "ternary"; throws InvalidModel otherwise.
DType parse_dtype(const std::string& name);

struct TensorInfo {
  DType dtype = DType::kFloat32;
  Shape shape;

  bool packed() const { return dtype != DType::kFloat32; }
  // Words per packed row (bits, ternary: both planes) or floats per row (float32) along the
  // last axis.
  int64_t last_axis_storage() const;
  // Number of rows: the product of all but the last axis (1 for rank 0).
  int64_t num_rows() const;
  int64_t storage_bytes() const;
};

struct Tensor {
  TensorInfo info;
  void* data = nullptr;

  float* f32() const { return static_cast<float*>(data); }
  Word* words() const { return static_cast<Word*>(data); }
  const Shape& shape() const { return info.shape; }
};

}  // namespace xnorinfer
