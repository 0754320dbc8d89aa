#include "xnorinfer/model/graph_rules.h"

#include <algorithm>
#include <map>
#include <set>

#include "xnorinfer/model/header_fields.h"
#include "xnorinfer/ops/op_schema.h"

namespace xnorinfer {
namespace {

using model_header::quoted;

[[noreturn]] void invalid(const std::string& message) {
  model_header::fail("invalid graph: " + message);
}

class Producers {
 public:
  void claim(const std::string& name, const std::string& by) {
    if (name.empty()) invalid(by + " has an empty name");
    const auto [it, added] = producer_.emplace(name, by);
    if (!added) {
      invalid("value " + quoted(name) + " is produced twice (" + it->second + " and " + by + ")");
    }
  }
  bool has(const std::string& name) const { return producer_.count(name) != 0; }

 private:
  std::map<std::string, std::string> producer_;
};

void check_attributes(const NodeDef& node, const OpSchema& schema) {
  std::vector<std::string> allowed;
  for (const auto* specs : {&schema.attrs, &info_attrs()}) {
    for (const AttrSpec& spec : *specs) allowed.push_back(spec.name);
  }
  std::string unknown;
  for (const std::string& key : node.attrs.keys()) {  // sorted
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      unknown += (unknown.empty() ? "" : ", ") + quoted(key);
    }
  }
  if (unknown.empty()) return;
  std::string takes;
  for (const std::string& name : allowed) takes += (takes.empty() ? "" : ", ") + name;
  invalid("node " + quoted(node.name) + " (" + node.op + ") has unknown attribute(s) " + unknown +
          " (it takes " + takes + ")");
}

void check_input(const ValueSpec& value) {
  for (int64_t dim : value.shape) {
    if (dim == 0) {
      invalid("graph input " + quoted(value.name) + " has shape " + to_string(value.shape) +
              ": extents must be positive, or -1 (dynamic)");
    }
  }
  if (value.dtype != "float32") {
    invalid("graph input " + quoted(value.name) + " has dtype " + quoted(value.dtype) +
            ", graph inputs must be float32");
  }
}

// `later` maps every node output to its node, for the messages about order and cycles.
void check_node_inputs(const NodeDef& node, const Producers& producers,
                       const std::map<std::string, std::string>& later) {
  for (const std::string& name : node.inputs) {
    if (name.empty() || producers.has(name)) continue;
    const auto it = later.find(name);
    if (it != later.end() && it->second == node.name) {
      invalid("node " + quoted(node.name) + " reads its own output " + quoted(name) +
              ": the graph may not have a cycle");
    }
    if (it != later.end()) {
      invalid("node " + quoted(node.name) + " reads " + quoted(name) + ", which node " +
              quoted(it->second) +
              " produces later: nodes must be in topological order and the graph may not have "
              "a cycle");
    }
    invalid("node " + quoted(node.name) + " input " + quoted(name) +
            " is dangling: it is not a graph input, a constant or an earlier node's output");
  }
}

}  // namespace

void check_graph_rules(const ModelFile& model) {
  if (static_cast<int64_t>(model.nodes.size()) > kMaxNodes) {
    invalid(std::to_string(model.nodes.size()) + " nodes, more than the engine's limit of " +
            std::to_string(kMaxNodes));
  }
  Producers producers;
  for (const ValueSpec& value : model.inputs) {
    check_input(value);
    producers.claim(value.name, "a graph input");
  }
  for (const ConstantSpec& constant : model.constants) producers.claim(constant.name, "a constant");
  std::map<std::string, std::string> later;
  for (const NodeDef& node : model.nodes) {
    for (const std::string& out : node.outputs) {
      if (!out.empty()) later[out] = node.name;
    }
  }
  std::set<std::string> seen_nodes;
  for (const NodeDef& node : model.nodes) {
    const OpSchema* schema = find_op_schema(node.op);
    if (!schema) invalid("node " + quoted(node.name) + " has unknown op " + quoted(node.op));
    check_attributes(node, *schema);
    if (!seen_nodes.insert(node.name).second) {
      invalid("node name " + quoted(node.name) + " is used twice");
    }
    check_node_inputs(node, producers, later);
    for (const std::string& out : node.outputs) {
      if (!out.empty()) producers.claim(out, "the output of node " + quoted(node.name));
    }
  }
  for (const ValueSpec& value : model.outputs) {
    if (!producers.has(value.name)) {
      invalid("graph output " + quoted(value.name) +
              " is not produced by any node (nor is it a graph input or constant)");
    }
    if (value.dtype != "float32") {
      invalid("graph output " + quoted(value.name) + " has dtype " + quoted(value.dtype) +
              ", graph outputs must be float32");
    }
  }
  for (const ValueSpec& value : model.values) {
    if (!producers.has(value.name)) {
      invalid("values describes " + quoted(value.name) + ", which no node produces");
    }
  }
}

}  // namespace xnorinfer
