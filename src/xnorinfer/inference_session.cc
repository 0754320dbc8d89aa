// The public C++ API (include/xnorinfer/xnorinfer.h) over the model-file reader, the graph
// builder and the engine Session.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "xnorinfer/model/model_file.h"
#include "xnorinfer/model/model_graph.h"
#include "xnorinfer/session.h"
#include "xnorinfer/xnorinfer.h"

namespace xnorinfer {

struct InferenceSession::Impl {
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::unique_ptr<Session> session;
};

namespace {

std::vector<ValueInfo> value_infos(const std::vector<ValueSpec>& specs) {
  std::vector<ValueInfo> infos;
  for (const ValueSpec& spec : specs) infos.push_back({spec.name, spec.shape});
  return infos;
}

std::vector<Shape> shapes_of(const std::vector<TensorView>& inputs) {
  std::vector<Shape> shapes;
  for (const TensorView& input : inputs) {
    if (!input.data) throw InvalidArgument("an input's data pointer is null");
    shapes.push_back(input.shape);
  }
  return shapes;
}

std::vector<const float*> data_of(const std::vector<TensorView>& inputs) {
  std::vector<const float*> data;
  for (const TensorView& input : inputs) data.push_back(input.data);
  return data;
}

}  // namespace

InferenceSession::InferenceSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InferenceSession::InferenceSession(InferenceSession&&) noexcept = default;
InferenceSession& InferenceSession::operator=(InferenceSession&&) noexcept = default;
InferenceSession::~InferenceSession() = default;

InferenceSession InferenceSession::load(const uint8_t* data, size_t size,
                                        const InferenceOptions& options, const std::string& label) {
  ModelFile model;
  try {
    model = read_model_file(data, size);
  } catch (const InvalidModelFile& error) {
    throw InvalidModelFile("cannot load " + label + ": " + error.what());
  }
  auto impl = std::make_unique<Impl>();
  impl->inputs = value_infos(model.inputs);
  impl->outputs = value_infos(model.outputs);
  SessionOptions session_options;
  session_options.num_threads = options.num_threads;
  session_options.isa = options.isa;
  impl->session = std::make_unique<Session>(build_graph(model, data), session_options);
  std::vector<Shape> batch_one;
  for (const ValueInfo& input : impl->inputs) {
    Shape shape = input.shape;
    for (int64_t& d : shape) d = d == -1 ? 1 : d;
    batch_one.push_back(shape);
  }
  std::vector<std::string> names;
  std::vector<Shape> declared;
  for (const ValueInfo& output : impl->outputs) {
    names.push_back(output.name);
    declared.push_back(output.shape);
  }
  check_declared_outputs(names, declared, impl->session->output_shapes(batch_one));
  return InferenceSession(std::move(impl));
}

InferenceSession InferenceSession::from_file(const std::string& path,
                                             const InferenceOptions& options) {
  // file_size refuses what is not a regular file (a directory, a missing path) with its reason.
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  if (error) throw std::system_error(error, "cannot read '" + path + "'");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  std::ifstream file(path, std::ios::binary);
  if (!file.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
    throw std::system_error(errno, std::generic_category(), "cannot read '" + path + "'");
  }
  return load(bytes.data(), bytes.size(), options, "model file '" + path + "'");
}

InferenceSession InferenceSession::from_memory(const void* data, size_t size,
                                               const InferenceOptions& options) {
  if (!data && size) throw InvalidArgument("from_memory got a null pointer");
  return load(static_cast<const uint8_t*>(data), size, options, "model bytes");
}

const std::vector<ValueInfo>& InferenceSession::inputs() const { return impl_->inputs; }
const std::vector<ValueInfo>& InferenceSession::outputs() const { return impl_->outputs; }
std::string InferenceSession::isa() const { return to_string(impl_->session->isa()); }
int InferenceSession::num_threads() const { return impl_->session->num_threads(); }

std::vector<std::vector<int64_t>> InferenceSession::output_shapes(
    const std::vector<std::vector<int64_t>>& input_shapes) {
  return impl_->session->output_shapes(input_shapes);
}

std::vector<Output> InferenceSession::run(const std::vector<TensorView>& inputs) {
  const std::vector<Shape> shapes = shapes_of(inputs);
  std::vector<Output> outputs;
  std::vector<float*> buffers;
  for (const Shape& shape : impl_->session->output_shapes(shapes)) {
    outputs.push_back({impl_->outputs[outputs.size()].name, shape,
                       std::vector<float>(static_cast<size_t>(num_elements(shape)))});
  }
  for (Output& output : outputs) buffers.push_back(output.data.data());
  impl_->session->run(shapes, data_of(inputs), buffers);
  return outputs;
}

void InferenceSession::run(const std::vector<TensorView>& inputs,
                           const std::vector<float*>& outputs) {
  const std::vector<Shape> shapes = shapes_of(inputs);
  impl_->session->output_shapes(shapes);  // checks the shapes, plans the run
  if (outputs.size() != impl_->outputs.size()) {
    throw InvalidArgument("the model has " + std::to_string(impl_->outputs.size()) +
                          " outputs, got " + std::to_string(outputs.size()) + " buffers");
  }
  for (float* buffer : outputs) {
    if (!buffer) throw InvalidArgument("an output buffer is null");
  }
  impl_->session->run(shapes, data_of(inputs), outputs);
}

}  // namespace xnorinfer
