#include "xnorinfer/model/model_graph.h"

namespace xnorinfer {

// The file stores constants little-endian, which is what the engine's targets are.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "xnorinfer needs a little-endian CPU");

std::shared_ptr<Graph> build_graph(const ModelFile& model, const uint8_t* data) {
  auto graph = std::make_shared<Graph>();
  for (const ValueSpec& input : model.inputs) {
    graph->add_input(input.name, input.shape, DType::kFloat32);
  }
  for (const ConstantSpec& constant : model.constants) {
    const TensorInfo info = constant.storage == ConstantSpec::Storage::kUint64
                                ? packed_words_info(constant.name, constant.shape)
                                : TensorInfo{DType::kFloat32, constant.shape};
    graph->add_constant(constant.name, info, data + constant.offset, constant.nbytes);
  }
  for (const NodeDef& node : model.nodes) graph->add_node(node);
  for (const ValueSpec& output : model.outputs) graph->add_output(output.name);
  return graph;
}

}  // namespace xnorinfer
