#include "xnorinfer/model/model_graph.h"

#include "xnorinfer/base/bits.h"
#include "xnorinfer/base/errors.h"

namespace xnorinfer {

// The file stores constants little-endian, which is what the engine's targets are.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "xnorinfer needs a little-endian CPU");

std::shared_ptr<Graph> build_graph(const ModelFile& model, const uint8_t* data) {
  auto graph = std::make_shared<Graph>();
  for (const ValueSpec& input : model.inputs) {
    graph->add_input(input.name, input.shape, DType::kFloat32);
  }
  for (const ConstantSpec& constant : model.constants) {
    TensorInfo info{DType::kFloat32, constant.shape};
    if (constant.storage == ConstantSpec::Storage::kUint64) {
      // Packed bits: the stored array counts words in its last axis, the engine counts bits.
      if (info.shape.empty()) {
        throw InvalidModel("packed constant '" + constant.name + "' must have rank >= 1");
      }
      info = {DType::kBits, info.shape};
      info.shape.back() *= kBitsPerWord;
    }
    graph->add_constant(constant.name, info, data + constant.offset, constant.nbytes);
  }
  for (const NodeDef& node : model.nodes) graph->add_node(node);
  for (const ValueSpec& output : model.outputs) graph->add_output(output.name);
  return graph;
}

}  // namespace xnorinfer
