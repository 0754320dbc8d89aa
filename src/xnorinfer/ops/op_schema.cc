// The schema table (op_schema.h) and the node check every op relies on. docs/ir.md says what
// each input and attribute means; tests/test_ir_doc.py keeps its op reference in step with this
// table.
#include "xnorinfer/ops/op_schema.h"

#include <set>
#include <stdexcept>
#include <variant>

#include "xnorinfer/base/errors.h"
#include "xnorinfer/graph/limits.h"
#include "xnorinfer/ops/op_registry.h"

namespace xnorinfer {
namespace {

// Bounds shared by the windowed ops.
constexpr int64_t kMaxWindow = int64_t{1} << 12;  // kernel extent, stride, dilation
constexpr int64_t kMaxPad = int64_t{1} << 12;
// BinaryDense's leading axes that are rows (a [batch, tokens, features] activation has 2).
constexpr int64_t kMaxBatchAxes = 8;
// Engine axes: the ops check them against their input's rank.
constexpr int64_t kMaxAxis = kMaxExtent;

AttrSpec int_attr(std::string name, int64_t min, int64_t max, bool required = false) {
  return {std::move(name), AttrType::kInt, required, 0, min, max};
}
AttrSpec ints_attr(std::string name, int64_t count, int64_t min, int64_t max,
                   bool required = false) {
  return {std::move(name), AttrType::kInts, required, count, min, max};
}
AttrSpec float_attr(std::string name) { return {std::move(name), AttrType::kFloat}; }
AttrSpec string_attr(std::string name) { return {std::move(name), AttrType::kString}; }

// A window's geometry, under a prefix ("pool_" for a MaxPool fused into a conv).
std::vector<AttrSpec> window_attrs(const std::string& prefix, bool dilations, bool ceil_mode,
                                   bool kernel_required) {
  const auto name = [&](const char* base) { return prefix + base; };
  std::vector<AttrSpec> attrs = {ints_attr(name("kernel_shape"), 2, 1, kMaxWindow, kernel_required),
                                 ints_attr(name("strides"), 2, 1, kMaxWindow)};
  if (dilations) attrs.push_back(ints_attr(name("dilations"), 2, 1, kMaxWindow));
  attrs.push_back(ints_attr(name("pads"), 4, 0, kMaxPad));
  if (ceil_mode) attrs.push_back(int_attr(name("ceil_mode"), 0, 1));
  return attrs;
}

std::vector<AttrSpec> conv_attrs() {
  std::vector<AttrSpec> attrs = window_attrs("", true, false, true);
  attrs.push_back(int_attr("group", 1, kMaxExtent));
  return attrs;
}

// A conv or dense layer's fused activation (activation.h).
std::vector<AttrSpec> activation_attrs() {
  return {string_attr("activation"),
          float_attr("activation_min"),
          float_attr("activation_max"),
          {"activation_slope", AttrType::kFloats}};
}

std::vector<AttrSpec> join(std::initializer_list<std::vector<AttrSpec>> parts) {
  std::vector<AttrSpec> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

std::vector<OpSchema> make_schemas() {
  const AttrSpec kInChannels = int_attr("in_channels", 1, kMaxExtent, true);
  const SlotSpec x{"x"}, y{"y"};
  const std::vector<SlotSpec> one_in = {x}, one_out = {y};
  const std::vector<SlotSpec> weights_scale_bias = {x, {"weight"}, {"scale"}, {"bias"}};
  const std::vector<SlotSpec> weights_bias = {x, {"weight"}, {"bias", true}};
  const auto f = OpKind::kFloat;
  // clang-format off: one op per entry, read as a table
  std::vector<OpSchema> s = {
      {"BinarizePack", OpKind::kBinary, {x, {"offset", true}, {"scale", true}, {"bias", true}},
       {y, {"abs_mean", true}},
       {string_attr("output"), string_attr("input_layout")}, &create_binarize_pack},
      {"BinaryConv2d", OpKind::kBinary,
       {x, {"weight"}, {"scale"}, {"bias"}, {"out_offset", true}, {"kmap_src", true},
        {"post_scale", true}, {"post_bias", true}, {"residual", true}, {"sum_offset", true}},
       {y, {"y_bits", true}},
       join({conv_attrs(),
             {kInChannels, int_attr("pad_value", -1, 1), string_attr("output"),
              string_attr("output_layout"), float_attr("kmap_kernel_value"),
              string_attr("scaling")},
             activation_attrs()}),
       &create_binary_conv2d},
      {"BinaryDense", OpKind::kBinary,
       {x, {"weight"}, {"scale"}, {"bias"}, {"out_offset", true}, {"beta_src", true},
        {"post_scale", true}, {"post_bias", true}},
       one_out,
       join({{kInChannels, int_attr("groups_in", 1, kMaxExtent),
              int_attr("batch_axes", 1, kMaxBatchAxes), string_attr("output")},
             activation_attrs()}),
       &create_binary_dense},
      {"BwnConv2d", OpKind::kBwn, weights_scale_bias, one_out,
       join({conv_attrs(),
             {kInChannels, int_attr("pad_value", 0, 0), string_attr("output_layout")},
             activation_attrs(),
             window_attrs("pool_", true, true, false)}),
       &create_bwn_conv2d},
      {"BwnDense", OpKind::kBwn, weights_scale_bias, one_out,
       join({{kInChannels, int_attr("groups_in", 1, 1)}, activation_attrs()}), &create_bwn_dense},
      {"Conv2d", f, weights_bias, one_out,
       join({conv_attrs(),
             {string_attr("precision"), string_attr("input_layout"), string_attr("output_layout")},
             activation_attrs(), window_attrs("pool_", true, true, false)}),
       &create_conv2d},
      {"Dense", f, weights_bias, one_out, join({{string_attr("precision")}, activation_attrs()}),
       &create_dense},
      {"ChannelAffine", f, {x, {"scale"}, {"bias"}}, one_out, {}, &create_channel_affine},
      {"Relu", f, one_in, one_out, {}, &create_relu},
      {"PRelu", f, {x, {"slope"}}, one_out, {}, &create_prelu},
      {"Clip", f, one_in, one_out, {float_attr("min"), float_attr("max")}, &create_clip},
      {"Sign", f, one_in, one_out, {}, &create_sign},
      {"Sigmoid", f, one_in, one_out, {}, &create_sigmoid},
      {"Tanh", f, one_in, one_out, {}, &create_tanh},
      {"MaxPool", f, one_in, one_out, window_attrs("", true, true, true), &create_max_pool},
      {"AveragePool", f, one_in, one_out,
       join({window_attrs("", false, true, true), {int_attr("count_include_pad", 0, 1)}}),
       &create_average_pool},
      {"GlobalAveragePool", f, one_in, one_out, {}, &create_global_average_pool},
      {"Add", f, {{"a"}, {"b"}}, one_out, {}, &create_add},
      {"Sub", f, {{"a"}, {"b"}}, one_out, {}, &create_sub},
      {"Mul", f, {{"a"}, {"b"}}, one_out, {}, &create_mul},
      {"Div", f, {{"a"}, {"b"}}, one_out, {}, &create_div},
      {"Concat", f, one_in, one_out, {int_attr("axis", 0, kMaxAxis, true)}, &create_concat,
       true},
      {"Reshape", f, one_in, one_out, {{"shape", AttrType::kInts, true, 0, -1, kMaxExtent}},
       &create_reshape},
      {"Transpose", f, one_in, one_out, {ints_attr("perm", 0, 0, kMaxAxis, true)},
       &create_transpose},
      {"Softmax", f, one_in, one_out, {int_attr("axis", 0, kMaxAxis, true)}, &create_softmax},
      {"LogSoftmax", f, one_in, one_out, {int_attr("axis", 0, kMaxAxis, true)},
       &create_log_softmax},
  };
  // clang-format on
  return s;
}

std::string slot_list(const OpSchema& schema, const std::vector<SlotSpec>& slots) {
  std::string list;
  for (const SlotSpec& slot : slots) {
    list += (list.empty() ? "" : ", ") + std::string(slot.name) + (slot.optional ? "?" : "");
  }
  return list + (schema.variadic && &slots == &schema.inputs ? ", ..." : "");
}

void check_slots(const NodeDef& node, const OpSchema& schema, const std::vector<std::string>& got,
                 const std::vector<SlotSpec>& slots, const char* what, int64_t max) {
  const auto fail = [&](const std::string& message) {
    throw InvalidModel("node '" + node.name + "' (" + node.op + "): " + message);
  };
  const auto count = static_cast<int64_t>(got.size());
  if (count > max) {
    fail("takes at most " + std::to_string(max) + " " + what + "s [" + slot_list(schema, slots) +
         "], got " + std::to_string(count));
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!slots[i].optional && (i >= got.size() || got[i].empty())) {
      fail(std::string(what) + " '" + slots[i].name + "' (" + what + " " + std::to_string(i) +
           " of [" + slot_list(schema, slots) + "]) is required");
    }
  }
  if (schema.variadic && &slots == &schema.inputs) {  // every repeat of the last slot too
    for (size_t i = slots.size(); i < got.size(); ++i) {
      if (got[i].empty()) fail(std::string(what) + " " + std::to_string(i) + " is empty");
    }
  }
}

// The ints of an int or list-of-ints attribute, as (first, count) into the value itself;
// false when the value is of another type. An empty list may arrive as a list of floats.
bool int_values(const AttrValue& value, bool list, const int64_t** first, size_t* count) {
  *first = nullptr;
  *count = 0;
  if (!list) {
    *first = std::get_if<int64_t>(&value);
    *count = 1;
    return *first != nullptr;
  }
  if (const auto* v = std::get_if<std::vector<int64_t>>(&value)) {
    *first = v->data();
    *count = v->size();
    return true;
  }
  const auto* d = std::get_if<std::vector<double>>(&value);
  return d && d->empty();
}

bool number_values(const AttrValue& value, bool list, size_t* count) {
  if (!list) {
    *count = 1;
    return std::holds_alternative<double>(value) || std::holds_alternative<int64_t>(value);
  }
  if (const auto* d = std::get_if<std::vector<double>>(&value)) *count = d->size();
  if (const auto* i = std::get_if<std::vector<int64_t>>(&value)) *count = i->size();
  return std::holds_alternative<std::vector<double>>(value) ||
         std::holds_alternative<std::vector<int64_t>>(value);
}

void check_attr(const NodeDef& node, const AttrSpec& spec) {
  const auto fail = [&](const std::string& message) {
    throw InvalidModel("node '" + node.name + "' (" + node.op + "): attribute '" + spec.name +
                       "' " + message);
  };
  const AttrValue* value = node.attrs.find(spec.name);
  if (!value) {
    throw InvalidModel("node '" + node.name + "' (" + node.op + "): missing attribute '" +
                       spec.name + "'");
  }
  const bool list = spec.type == AttrType::kInts || spec.type == AttrType::kFloats;
  size_t count = 1;
  if (spec.type == AttrType::kString) {
    if (!std::holds_alternative<std::string>(*value)) fail("must be a string");
    return;
  }
  if (spec.type == AttrType::kFloat || spec.type == AttrType::kFloats) {
    if (!number_values(*value, list, &count))
      fail(list ? "must be a list of numbers" : "must be a number");
  } else {
    const int64_t* ints;
    if (!int_values(*value, list, &ints, &count)) {
      fail(list ? "must be a list of ints" : "must be an int");
    }
    for (size_t i = 0; i < count; ++i) {
      const int64_t v = ints[i];
      if (v < spec.min || v > spec.max) {
        fail("value " + std::to_string(v) + " is outside [" + std::to_string(spec.min) + ", " +
             std::to_string(spec.max) + "]");
      }
    }
  }
  if (list && spec.count > 0 && static_cast<int64_t>(count) != spec.count) {
    fail("must have " + std::to_string(spec.count) + " values, got " + std::to_string(count));
  }
}

}  // namespace

const std::vector<AttrSpec>& info_attrs() {
  static const std::vector<AttrSpec> attrs = {string_attr("source"), string_attr("kind")};
  return attrs;
}

const char* to_string(OpKind kind) {
  switch (kind) {
    case OpKind::kBinary:
      return "binary";
    case OpKind::kBwn:
      return "bwn";
    case OpKind::kFloat:
      return "float";
  }
  return "?";
}

const char* to_string(AttrType type) {
  switch (type) {
    case AttrType::kInt:
      return "int";
    case AttrType::kFloat:
      return "float";
    case AttrType::kString:
      return "string";
    case AttrType::kInts:
      return "ints";
    case AttrType::kFloats:
      return "floats";
  }
  return "?";
}

int OpSchema::find_input(const std::string& slot) const {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (slot == inputs[i].name) return static_cast<int>(i);
  }
  return -1;
}

int OpSchema::input(const std::string& slot) const {
  const int index = find_input(slot);
  if (index < 0) throw std::logic_error(std::string(name) + " has no input '" + slot + "'");
  return index;
}

const std::vector<OpSchema>& op_schemas() {
  static const std::vector<OpSchema> schemas = make_schemas();
  return schemas;
}

const OpSchema* find_op_schema(const std::string& op) {
  for (const OpSchema& schema : op_schemas()) {
    if (op == schema.name) return &schema;
  }
  return nullptr;
}

const OpSchema& op_schema(const std::string& op) {
  const OpSchema* schema = find_op_schema(op);
  if (!schema) throw InvalidModel("unknown op '" + op + "'");
  return *schema;
}

void check_node(const NodeDef& node) {
  const OpSchema& schema = op_schema(node.op);
  const int64_t max_inputs =
      schema.variadic ? kMaxVariadicInputs : static_cast<int64_t>(schema.inputs.size());
  check_slots(node, schema, node.inputs, schema.inputs, "input", max_inputs);
  check_slots(node, schema, node.outputs, schema.outputs, "output",
              static_cast<int64_t>(schema.outputs.size()));
  std::set<std::string> known;
  for (const auto* specs : {&schema.attrs, &info_attrs()}) {
    for (const AttrSpec& spec : *specs) {
      known.insert(spec.name);
      if (node.attrs.has(spec.name) || spec.required) check_attr(node, spec);
    }
  }
  for (const std::string& key : node.attrs.keys()) {
    if (known.count(key)) continue;
    std::string allowed;
    for (const std::string& name : known) allowed += (allowed.empty() ? "" : ", ") + name;
    throw InvalidModel("node '" + node.name + "' (" + node.op + "): unknown attribute '" + key +
                       "' (" + node.op + " takes " + allowed + ")");
  }
}

}  // namespace xnorinfer
