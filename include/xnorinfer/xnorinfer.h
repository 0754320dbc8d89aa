// xnorinfer's C++ API: load a model file written by the Python converter
// (`xnorinfer convert model.onnx model.xnor`), inspect its inputs and outputs, and run it on
// float32 buffers, with no Python on the machine.
//
//   #include <xnorinfer/xnorinfer.h>
//
//   xnorinfer::InferenceSession session =
//       xnorinfer::InferenceSession::from_file("model.xnor", {/*num_threads=*/1});
//   std::vector<float> image(1 * 3 * 224 * 224);
//   std::vector<xnorinfer::Output> outputs = session.run({{image.data(), {1, 3, 224, 224}}});
//
// Inputs are given in the layout of the ONNX model the file was converted from (NCHW for a
// PyTorch export), as the Python InferenceSession takes them. Every error is an exception
// derived from xnorinfer::Error (errors.h): InvalidModelFile for bytes that are not a readable
// model file, InvalidModel for a graph the engine cannot run, InvalidArgument for wrong
// inputs or options, UnsupportedIsa, OutOfMemory. A session may run from several threads at
// once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xnorinfer/errors.h"

namespace xnorinfer {

// A graph input or output: its name and shape, where -1 is a dynamic extent (the batch).
struct ValueInfo {
  std::string name;
  std::vector<int64_t> shape;
};

// A float32 input: `data` holds the product of `shape` values, row-major.
struct TensorView {
  const float* data;
  std::vector<int64_t> shape;
};

// A float32 output, row-major.
struct Output {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

struct InferenceOptions {
  int num_threads = 0;  // threads inside each op; 0: all the cores OpenMP reports
  std::string isa;      // "scalar", "avx2", "avx512" or "neon"; "": $XNORINFER_ISA, else the best
};

class XNORINFER_EXPORT InferenceSession {
 public:
  // Reads and checks the model file at `path` (throws InvalidModelFile naming the file and
  // what is wrong with it, or std::system_error when it cannot be read), builds its graph and
  // plans it at batch 1.
  static InferenceSession from_file(const std::string& path, const InferenceOptions& options = {});
  // The same for a model file's bytes, which are not needed after the call.
  static InferenceSession from_memory(const void* data, size_t size,
                                      const InferenceOptions& options = {});

  InferenceSession(InferenceSession&&) noexcept;
  InferenceSession& operator=(InferenceSession&&) noexcept;
  ~InferenceSession();

  const std::vector<ValueInfo>& inputs() const;
  const std::vector<ValueInfo>& outputs() const;
  std::string isa() const;  // the kernel path it runs
  int num_threads() const;

  // The output shapes for inputs of these shapes; throws InvalidArgument when they do not fit
  // the model's inputs.
  std::vector<std::vector<int64_t>> output_shapes(
      const std::vector<std::vector<int64_t>>& input_shapes);
  // Runs the model on one buffer per input, in the order of inputs(); returns every output.
  std::vector<Output> run(const std::vector<TensorView>& inputs);
  // Runs into caller-owned buffers of the sizes output_shapes() gives, apart from the inputs'
  // and from each other's (an overlap is refused: inputs may be read in place while outputs are
  // written, and a binary layer, a conv writing NCHW or a Transpose writes its graph output
  // straight into its buffer). Buffers that start on 64 bytes take the layers' vector stores
  // whole.
  void run(const std::vector<TensorView>& inputs, const std::vector<float*>& outputs);

 private:
  struct Impl;
  explicit InferenceSession(std::unique_ptr<Impl> impl);
  static InferenceSession load(const uint8_t* data, size_t size, const InferenceOptions& options,
                               const std::string& label);
  std::unique_ptr<Impl> impl_;
};

}  // namespace xnorinfer
