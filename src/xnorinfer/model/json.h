// A JSON reader for the model file's header: the grammar of RFC 8259 plus the three words
// Python's json module writes for non-finite floats (NaN, Infinity, -Infinity), read into one
// flat, compact document. It refuses what would make two readers disagree or cost more than the
// text justifies: invalid UTF-8, lone surrogates, duplicate keys in an object, nesting deeper
// than a limit, integers longer than 4300 digits (Python's own limit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace xnorinfer::json {

class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// kBigInt: an integer literal outside int64 (its decimal text is kept for messages).
enum class Type : uint8_t { kNull, kBool, kInt, kBigInt, kFloat, kString, kArray, kObject };

class Document;

// A view of one value in a Document; valid while the Document lives.
class Ref {
 public:
  Type type() const;
  bool is_int() const { return type() == Type::kInt || type() == Type::kBigInt; }
  bool as_bool() const;
  int64_t as_int() const;   // kInt
  double as_float() const;  // kFloat
  // kString: the text (UTF-8, may hold NUL); kBigInt: its decimal text, sign included.
  std::string_view as_string() const;
  // Arrays: the number of items; objects: the number of members; 0 otherwise.
  size_t size() const;
  Ref item(size_t i) const;              // the i-th array item or object member value
  std::string_view key(size_t i) const;  // the i-th object member's key
  // The value of member `key` of an object (a linear scan), or a Ref whose valid() is false.
  Ref find(std::string_view key) const;
  bool valid() const { return doc_ != nullptr; }

 private:
  friend class Document;
  Ref(const Document* doc, uint32_t node) : doc_(doc), node_(node) {}
  Ref() = default;
  const Document* doc_ = nullptr;
  uint32_t node_ = 0;
};

class Document {
 public:
  // Parses `text` as exactly one JSON value (surrounding whitespace allowed). Throws ParseError
  // saying what is wrong and at which byte offset.
  static Document parse(std::string_view text, int max_depth = kDefaultMaxDepth);
  static constexpr int kDefaultMaxDepth = 512;

  Ref root() const { return Ref(this, root_); }

 private:
  friend class Ref;
  friend class Parser;

  // One value in 16 bytes, with no allocation of its own. A container's children sit
  // contiguously in nodes_, before the container (they close first), so item(i) is one index;
  // an object's children alternate key (a kString node), value.
  struct Span {
    uint32_t begin;  // kString/kBigInt: offset in chars_; kArray/kObject: first child in nodes_
    uint32_t at;     // byte offset of the value in the parsed text (for messages)
  };
  struct Node {
    Type type;
    uint32_t size;  // kString/kBigInt: bytes in chars_; kArray: items; kObject: members
    union {
      int64_t integer;  // kInt; kBool: 0 or 1
      double number;    // kFloat
      Span span;        // kString, kBigInt, kArray, kObject
    };
  };
  const Node& node(uint32_t index) const { return nodes_[index]; }

  std::vector<Node> nodes_;  // every value; the root is the last
  std::string chars_;        // decoded strings and keys (UTF-8), big-int text
  uint32_t root_ = 0;
  // Refs point at the Document: they dangle once it is moved or destroyed.
};

// Python's name for the type of `value`: null, bool, int, float, str, list or object.
const char* type_name(Ref value);

// `value` as Python's repr() would print it, for error messages: 3, -1.5, 1e+16, nan, inf,
// 'text', [1, 2], {'a': 1}. Long values are cut with "..." after about 200 characters.
std::string repr(Ref value);

}  // namespace xnorinfer::json
