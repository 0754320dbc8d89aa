// The engine graph: named values (inputs, constants, node outputs) and nodes in topological
// order. Every add_* call validates what it can on its own; op-level checks happen when a
// Session creates the ops. See docs/ir.md for the op set.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "xnorinfer/base/aligned_buffer.h"
#include "xnorinfer/base/tensor.h"
#include "xnorinfer/ops/op.h"

namespace xnorinfer {

struct GraphInput {
  std::string name;
  DType dtype;
  Shape shape;  // -1 marks a dynamic extent (the batch)
};

// The info of a constant stored as uint64 words of packed bits, as NumPy arrays and the model file
// hold them (the last axis counts words): a bits tensor, whose last axis counts bits. Throws
// InvalidModel naming `name` for a rank-0 shape.
TensorInfo packed_words_info(const std::string& name, Shape words_shape);

class Graph {
 public:
  // Throws InvalidModel on a duplicate name, a bad shape or a dtype other than float32.
  void add_input(const std::string& name, const Shape& shape, DType dtype);
  // Copies `num_bytes` of data, which must equal the storage size of `info`.
  void add_constant(const std::string& name, const TensorInfo& info, const void* data,
                    size_t num_bytes);
  // Every non-empty input must already be defined (inputs in topological order); outputs must
  // be new names.
  void add_node(NodeDef node);
  void add_output(const std::string& name);

  const std::vector<GraphInput>& inputs() const { return inputs_; }
  const std::vector<std::string>& outputs() const { return outputs_; }
  const std::vector<NodeDef>& nodes() const { return nodes_; }
  // The constant named `name`, or nullptr.
  const Tensor* constant(const std::string& name) const;

 private:
  void define(const std::string& name, const char* what);

  std::vector<GraphInput> inputs_;
  std::vector<std::string> outputs_;
  std::vector<NodeDef> nodes_;
  struct Constant {
    AlignedBuffer storage;
    Tensor tensor;
  };
  std::map<std::string, std::unique_ptr<Constant>> constants_;
  std::map<std::string, bool> defined_;
};

}  // namespace xnorinfer
