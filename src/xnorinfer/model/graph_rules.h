// The graph rules of docs/ir.md that hold for every op, checked on every model file read (and
// so on every file Python writes, which it reads back): one producer per value, nodes in
// topological order, known ops and attributes (the op schema), float32 graph inputs and
// outputs, positive input extents, the node limit. The op-specific rules (shapes, slots,
// attribute bounds) are checked when the engine graph is built and planned.
#pragma once

#include "xnorinfer/model/model_file.h"

namespace xnorinfer {

// Throws InvalidModelFile naming the first rule `model` breaks.
void check_graph_rules(const ModelFile& model);

}  // namespace xnorinfer
