#include "xnorinfer/model/header_graph.h"

#include <algorithm>
#include <set>

#include "xnorinfer/model/header_fields.h"

namespace xnorinfer {
namespace {

using json::Ref;
using json::Type;
using model_header::field;
using model_header::invalid;
using model_header::Kind;
using model_header::quoted;

constexpr const char* kDtypes[] = {"float32", "bits", "ternary"};

ValueSpec read_value(Ref value, std::string where) {
  if (value.type() != Type::kObject) {
    invalid(where + " must be an object, got " + json::type_name(value));
  }
  ValueSpec spec;
  spec.name = model_header::string_field(value, "name", where);
  where += " " + quoted(spec.name);
  model_header::check_keys(value, {"name", "shape", "dtype"}, where);
  spec.shape = model_header::shape_field(field(value, "shape", Kind::kList, where), where, -1);
  spec.dtype = model_header::string_field(value, "dtype", where);
  if (std::find(std::begin(kDtypes), std::end(kDtypes), spec.dtype) == std::end(kDtypes)) {
    invalid(where + " has unknown dtype " + quoted(spec.dtype) +
            " (expected one of float32, bits, ternary)");
  }
  return spec;
}

std::vector<ValueSpec> read_values(Ref header, const char* key, const std::string& what) {
  const Ref list = field(header, key, Kind::kList, "header");
  std::vector<ValueSpec> specs;
  for (size_t i = 0; i < list.size(); ++i) {
    specs.push_back(read_value(list.item(i), what + " #" + std::to_string(i)));
  }
  return specs;
}

std::vector<std::string> read_names(Ref list, const std::string& where) {
  std::vector<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    if (list.item(i).type() != Type::kString) {
      invalid(where + " must be strings, got " + json::type_name(list.item(i)));
    }
    names.emplace_back(list.item(i).as_string());
  }
  return names;
}

int64_t attr_int(Ref value, const std::string& where) {
  if (value.type() == Type::kBigInt) {
    model_header::fail("invalid " + where + ": " + json::repr(value) +
                       " does not fit in a 64-bit integer");
  }
  return value.as_int();
}

// Attributes are int, float, str, a list of ints or a list of floats (docs/ir.md); ints are
// 64-bit, as the engine stores them. An empty list is a list of ints.
AttrValue read_attr(Ref value, const std::string& where) {
  switch (value.type()) {
    case Type::kInt:
    case Type::kBigInt:
      return attr_int(value, where);
    case Type::kFloat:
      return value.as_float();
    case Type::kString:
      return std::string(value.as_string());
    case Type::kArray:
      break;
    default:
      model_header::fail("invalid " + where +
                         ": must be int, float, str, list of int or list of float, got " +
                         json::type_name(value));
  }
  std::set<std::string> kinds;
  for (size_t i = 0; i < value.size(); ++i) kinds.insert(json::type_name(value.item(i)));
  if (kinds.empty() || kinds == std::set<std::string>{"int"}) {
    std::vector<int64_t> ints;
    for (size_t i = 0; i < value.size(); ++i) ints.push_back(attr_int(value.item(i), where));
    return ints;
  }
  if (kinds == std::set<std::string>{"float"}) {
    std::vector<double> floats;
    for (size_t i = 0; i < value.size(); ++i) floats.push_back(value.item(i).as_float());
    return floats;
  }
  std::string names;
  for (const std::string& kind : kinds) names += (names.empty() ? "" : ", ") + kind;
  model_header::fail("invalid " + where + ": a list must hold only ints or only floats, got " +
                     names);
}

NodeDef read_node(Ref node, std::string where) {
  if (node.type() != Type::kObject) {
    invalid(where + " must be an object, got " + json::type_name(node));
  }
  NodeDef def;
  def.name = model_header::string_field(node, "name", where);
  where = "node " + quoted(def.name);
  model_header::check_keys(node, {"name", "op", "inputs", "outputs", "attrs"}, where);
  def.op = model_header::string_field(node, "op", where);
  def.inputs = read_names(field(node, "inputs", Kind::kList, where), where + " inputs");
  def.outputs = read_names(field(node, "outputs", Kind::kList, where), where + " outputs");
  const Ref attrs = field(node, "attrs", Kind::kObject, where);
  std::map<std::string, AttrValue> values;
  for (size_t i = 0; i < attrs.size(); ++i) {
    const std::string key(attrs.key(i));
    values[key] = read_attr(attrs.item(i), where + " attr " + quoted(key));
  }
  def.attrs = AttrMap(def.name, std::move(values));
  return def;
}

}  // namespace

void read_header_graph(Ref header, ModelFile& model) {
  model.inputs = read_values(header, "inputs", "graph input");
  model.outputs = read_values(header, "outputs", "graph output");
  model.values = read_values(header, "values", "value");
  std::set<std::string> described;
  for (const ValueSpec& value : model.values) {
    if (!described.insert(value.name).second) {
      invalid("value " + quoted(value.name) + " is described twice");
    }
  }
  const Ref nodes = field(header, "nodes", Kind::kList, "header");
  for (size_t i = 0; i < nodes.size(); ++i) {
    model.nodes.push_back(read_node(nodes.item(i), "node #" + std::to_string(i)));
  }
  field(header, "metadata", Kind::kObject, "header");
}

}  // namespace xnorinfer
