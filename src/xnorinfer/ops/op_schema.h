// The op schema: for every op, how it computes (its kind), its named input and output slots
// and which of them may be left empty, and the attributes it takes with their types and bounds.
// It is the one place that says what a node may hold: the session checks every node against
// it before the op sees the node (check_node), _core.list_ops() exports it, and the converter,
// the model file, the inspector and docs/ir.md's op reference take slots, attribute names and
// kinds from there. Adding an op input or attribute is an edit here plus the code that uses it.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "xnorinfer/ops/op.h"

namespace xnorinfer {

enum class OpKind { kBinary, kBwn, kFloat };
enum class AttrType { kInt, kFloat, kString, kInts, kFloats };

const char* to_string(OpKind kind);
const char* to_string(AttrType type);

struct SlotSpec {
  const char* name;
  bool optional = false;  // may be absent or ""
};

struct AttrSpec {
  std::string name;
  AttrType type;
  bool required = false;
  int64_t count = 0;  // lists: exactly this many values (0: any number)
  // Ints and lists of ints: every value within [min, max].
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
};

struct OpSchema {
  const char* name;
  OpKind kind;
  std::vector<SlotSpec> inputs;  // with `variadic`, the last one repeats
  std::vector<SlotSpec> outputs;
  std::vector<AttrSpec> attrs;  // besides kInfoAttrs, which every op takes
  OpFactory factory;
  bool variadic = false;

  // The index of input `name`; a name the schema does not have is a programming error
  // (std::logic_error).
  int input(const std::string& name) const;
  // The index of input `name`, or -1 when the op has no such input.
  int find_input(const std::string& name) const;
};

// Informational attributes every op accepts (strings): the ONNX node(s) a node came from, and
// its kind as the converter labelled it.
const std::vector<AttrSpec>& info_attrs();

// Inputs a variadic op takes at most.
constexpr int64_t kMaxVariadicInputs = 1024;

// Every op, in the order of docs/ir.md.
const std::vector<OpSchema>& op_schemas();

// The schema of `op`, or nullptr for an op the engine does not have.
const OpSchema* find_op_schema(const std::string& op);
// The schema of `op`; throws InvalidModel for an op the engine does not have.
const OpSchema& op_schema(const std::string& op);

// Checks `node` against its op's schema: the number of inputs and outputs, the required ones
// present, every attribute known, of its type and within its bounds, the required ones given.
// Throws InvalidModel naming the node and what is wrong.
void check_node(const NodeDef& node);

}  // namespace xnorinfer
