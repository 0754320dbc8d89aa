// The engine graph a model file describes.
#pragma once

#include <memory>

#include "xnorinfer/graph/graph.h"
#include "xnorinfer/model/model_file.h"

namespace xnorinfer {

// Builds the graph of `model`, read from `data`, copying its constants out of `data`. Throws
// InvalidModel when the graph breaks an op's rules (shapes, slots, attribute bounds).
std::shared_ptr<Graph> build_graph(const ModelFile& model, const uint8_t* data);

}  // namespace xnorinfer
