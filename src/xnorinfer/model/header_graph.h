// The graph half of the model file's header: graph inputs, outputs, the values' recorded
// shapes and the nodes with their attributes, type-checked as they are read.
#pragma once

#include "xnorinfer/model/model_file.h"

namespace xnorinfer {

// Fills model.inputs, outputs, values and nodes from `header`; checks that the metadata is an
// object. Throws InvalidModelFile.
void read_header_graph(json::Ref header, ModelFile& model);

}  // namespace xnorinfer
