#include "xnorinfer/graph/graph.h"

#include <cstring>

#include "xnorinfer/base/bits.h"
#include "xnorinfer/base/errors.h"
#include "xnorinfer/graph/limits.h"
#include "xnorinfer/ops/op_schema.h"

namespace xnorinfer {

void Graph::define(const std::string& name, const char* what) {
  if (name.empty()) throw InvalidModel(std::string(what) + " has an empty name");
  if (defined_.count(name)) throw InvalidModel("value '" + name + "' is defined twice");
  defined_[name] = true;
}

void Graph::add_input(const std::string& name, const Shape& shape, DType dtype) {
  define(name, "a graph input");
  if (dtype != DType::kFloat32) throw InvalidModel("graph input '" + name + "' must be float32");
  for (size_t i = 0; i < shape.size(); ++i) {
    // -1 is a dynamic extent (the batch, a token count ...); a zero extent could never be fed.
    const int64_t d = shape[i];
    if (d == 0 || d < -1 || d > kMaxExtent) {
      throw InvalidModel("graph input '" + name + "' has an invalid extent " + std::to_string(d) +
                         " in shape " + to_string(shape) +
                         " (extents are positive, or -1 for a dynamic one)");
    }
  }
  inputs_.push_back({name, dtype, shape});
}

TensorInfo packed_words_info(const std::string& name, Shape words_shape) {
  if (words_shape.empty()) throw InvalidModel("packed constant '" + name + "' must have rank >= 1");
  words_shape.back() *= kBitsPerWord;
  return {DType::kBits, words_shape};
}

void Graph::add_constant(const std::string& name, const TensorInfo& info, const void* data,
                         size_t num_bytes) {
  define(name, "a constant");
  if (info.dtype == DType::kBits && (info.shape.empty() || info.shape.back() < 1)) {
    throw InvalidModel("packed constant '" + name + "' has shape " + to_string(info.shape) +
                       ": it needs at least one word in its last axis");
  }
  const int64_t expected = checked_storage_bytes(info, "constant '" + name + "'");
  if (static_cast<int64_t>(num_bytes) != expected) {
    throw InvalidModel("constant '" + name + "' has " + std::to_string(num_bytes) +
                       " bytes, its shape " + to_string(info.shape) + " needs " +
                       std::to_string(expected));
  }
  auto c = std::make_unique<Constant>();
  c->storage = AlignedBuffer(num_bytes);
  if (num_bytes) std::memcpy(c->storage.data(), data, num_bytes);
  c->tensor = Tensor{info, c->storage.data()};
  constants_[name] = std::move(c);
}

void Graph::add_node(NodeDef node) {
  // The op's schema: its slots (every op writes its first output), its attributes; an unknown
  // op throws.
  check_node(node);
  for (const std::string& in : node.inputs) {
    if (!in.empty() && !defined_.count(in)) {
      throw InvalidModel("node '" + node.name + "' (" + node.op + ") reads '" + in +
                         "', which is not a graph input, a constant or an earlier node's output");
    }
  }
  for (const std::string& out : node.outputs) {
    if (!out.empty()) define(out, "a node output");
  }
  nodes_.push_back(std::move(node));
}

void Graph::add_output(const std::string& name) {
  if (!defined_.count(name)) throw InvalidModel("graph output '" + name + "' is never produced");
  outputs_.push_back(name);
}

const Tensor* Graph::constant(const std::string& name) const {
  auto it = constants_.find(name);
  return it == constants_.end() ? nullptr : &it->second->tensor;
}

}  // namespace xnorinfer
