// Typed access to the model file's JSON header, shared by the parts of the reader: each getter
// checks what it reads and throws InvalidModelFile naming the field and what it held.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "xnorinfer/base/shape.h"
#include "xnorinfer/model/json.h"

namespace xnorinfer::model_header {

// What a field must hold; kInt accepts integers of any size (the caller checks the range).
enum class Kind { kInt, kString, kList, kObject };

[[noreturn]] void fail(const std::string& message);
// fail("invalid header: " + message).
[[noreturn]] void invalid(const std::string& message);

// Member `key` of `object`, which must be there and hold `kind`; `where` names the object.
json::Ref field(json::Ref object, std::string_view key, Kind kind, const std::string& where);
std::string string_field(json::Ref object, std::string_view key, const std::string& where);

// Refuses members of `object` other than `known`.
void check_keys(json::Ref object, std::initializer_list<std::string_view> known,
                const std::string& where);

// A shape list: at most 32 ints, each >= min_dim (-1 for values: a dynamic extent; 0 for
// constants) and at most the engine's extent limit.
Shape shape_field(json::Ref list, const std::string& where, int64_t min_dim);

// `text` in single quotes, as the messages name things.
std::string quoted(std::string_view text);

}  // namespace xnorinfer::model_header
