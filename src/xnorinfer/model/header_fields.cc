#include "xnorinfer/model/header_fields.h"

#include <algorithm>
#include <vector>

#include "xnorinfer/base/errors.h"
#include "xnorinfer/graph/limits.h"

namespace xnorinfer::model_header {
namespace {

constexpr size_t kMaxRank = 32;  // NumPy 1.x's limit; keeps hostile shapes from costing time

bool holds(json::Ref value, Kind kind) {
  switch (kind) {
    case Kind::kInt:
      return value.is_int();
    case Kind::kString:
      return value.type() == json::Type::kString;
    case Kind::kList:
      return value.type() == json::Type::kArray;
    case Kind::kObject:
      return value.type() == json::Type::kObject;
  }
  return false;
}

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kInt:
      return "an int";
    case Kind::kString:
      return "a string";
    case Kind::kList:
      return "a list";
    case Kind::kObject:
      return "an object";
  }
  return "?";
}

bool negative(json::Ref dim) {
  return dim.type() == json::Type::kBigInt ? dim.as_string().front() == '-' : false;
}

}  // namespace

void fail(const std::string& message) { throw InvalidModelFile(message); }

void invalid(const std::string& message) { fail("invalid header: " + message); }

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

json::Ref field(json::Ref object, std::string_view key, Kind kind, const std::string& where) {
  const json::Ref value = object.find(key);
  if (!value.valid()) invalid(where + " is missing the field " + quoted(key));
  if (!holds(value, kind)) {
    invalid(where + " field " + quoted(key) + " must be " + kind_name(kind) + ", got " +
            json::type_name(value));
  }
  return value;
}

std::string string_field(json::Ref object, std::string_view key, const std::string& where) {
  return std::string(field(object, key, Kind::kString, where).as_string());
}

void check_keys(json::Ref object, std::initializer_list<std::string_view> known,
                const std::string& where) {
  std::vector<std::string> unknown;
  for (size_t i = 0; i < object.size(); ++i) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || object.key(i) == k;
    if (!ok) unknown.push_back(quoted(object.key(i)));
  }
  if (unknown.empty()) return;
  std::sort(unknown.begin(), unknown.end());
  std::string list;
  for (const std::string& name : unknown) list += (list.empty() ? "" : ", ") + name;
  invalid(where + " has unknown field(s) " + list);
}

Shape shape_field(json::Ref list, const std::string& where, int64_t min_dim) {
  if (list.size() > kMaxRank) {
    invalid(where + " has rank " + std::to_string(list.size()) + ", more than " +
            std::to_string(kMaxRank));
  }
  Shape shape;
  for (size_t i = 0; i < list.size(); ++i) {
    const json::Ref dim = list.item(i);
    if (!dim.is_int()) {
      invalid(where + " shape " + json::repr(list) + " holds " + json::type_name(dim) +
              ", expected ints");
    }
    const bool big = dim.type() == json::Type::kBigInt;
    if (big ? negative(dim) : dim.as_int() < min_dim) {
      const char* allowed = min_dim < 0 ? "only -1, a dynamic dimension, may be negative"
                                        : "a constant has no dynamic dimension";
      invalid(where + " shape " + json::repr(list) + " has a negative dimension " +
              json::repr(dim) + " (" + allowed + ")");
    }
    if (big || dim.as_int() > kMaxExtent) {
      invalid(where + " shape has a dimension " + json::repr(dim) +
              ", more than the engine's limit of " + std::to_string(kMaxExtent));
    }
    shape.push_back(dim.as_int());
  }
  return shape;
}

}  // namespace xnorinfer::model_header
