#include "xnorinfer/model/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace xnorinfer::json {

// Parses iteratively (an explicit stack of open containers), so no input nests the C++ stack.
// Scalars and closed containers wait in pending_ until their container closes; then its children
// move to the end of nodes_ in one block and the container takes their place in pending_.
class Parser {
 public:
  Parser(std::string_view text, int max_depth, Document& doc)
      : text_(text), max_depth_(max_depth), doc_(doc) {}

  void run();

 private:
  using Node = Document::Node;
  struct Frame {
    uint32_t pending_begin;  // this container's first child in pending_
    uint32_t at;             // byte offset of its '[' or '{'
    bool object;
  };

  [[noreturn]] void fail(const std::string& what, size_t at) const {
    throw ParseError(what + " at byte " + std::to_string(at));
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void skip_whitespace() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                         text_[pos_] == '\r'))
      ++pos_;
  }

  void check_utf8() const;
  void open(bool object);
  void close();
  void key();
  void scalar();
  void literal(std::string_view word, Node node);
  void number();
  void string();
  uint32_t hex4(size_t at) const;
  void check_duplicates(uint32_t begin, uint32_t members);
  static Node make_node(Type type) {
    Node node;
    node.type = type;
    node.size = 0;
    node.integer = 0;
    return node;
  }
  std::string_view chars(const Node& node) const {
    return std::string_view(doc_.chars_).substr(node.span.begin, node.size);
  }

  std::string_view text_;
  size_t pos_ = 0;
  int max_depth_;
  Document& doc_;
  std::vector<Node> pending_;
  std::vector<Frame> frames_;
  std::vector<uint32_t> order_;  // scratch for check_duplicates
};

namespace {

constexpr size_t kMaxIntDigits = 4300;  // Python 3.11's default int_max_str_digits

bool is_digit(char c) { return c >= '0' && c <= '9'; }

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

constexpr size_t kReprLimit = 200;  // repr() output is cut past this many bytes

// Appends Python's repr() of the str `text`, stopping once `out` is longer than `limit`.
void append_str_repr(std::string& out, std::string_view text, size_t limit);
// Cuts a repr() longer than kReprLimit on a UTF-8 boundary and marks the cut with "...".
void cut_repr(std::string& out);

}  // namespace

void Parser::run() {
  // Offsets and node indices are 32-bit; every value takes at least one byte of text.
  if (static_cast<uint64_t>(text_.size()) > std::numeric_limits<uint32_t>::max())
    throw ParseError("JSON text of " + std::to_string(text_.size()) + " bytes: more than 4 GiB");
  check_utf8();  // Python decodes the whole text before parsing
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") fail("unexpected UTF-8 byte order mark", 0);
  frames_.reserve(static_cast<size_t>(std::clamp(max_depth_, 0, 1024)));

  skip_whitespace();
  for (;;) {
    // A value starts here: open a container, or read a scalar.
    const char c = peek();
    if (c == '[' || c == '{') {
      open(c == '{');
      ++pos_;
      skip_whitespace();
      if (peek() == (c == '[' ? ']' : '}')) {
        ++pos_;
        close();
      } else {
        if (c == '{') key();
        continue;
      }
    } else {
      scalar();
    }
    // After a value: close containers until one expects another value.
    for (;;) {
      if (frames_.empty()) {
        skip_whitespace();
        if (!at_end()) fail("extra data", pos_);
        doc_.nodes_.push_back(pending_.back());
        doc_.root_ = static_cast<uint32_t>(doc_.nodes_.size() - 1);
        return;
      }
      skip_whitespace();
      const bool object = frames_.back().object;
      const char next = peek();
      if (next == ',') {
        ++pos_;
        if (object) {
          skip_whitespace();
          key();
        }
        break;
      }
      if (next != (object ? '}' : ']'))
        fail(object ? "expecting ',' or '}'" : "expecting ',' or ']'", pos_);
      ++pos_;
      close();
    }
    skip_whitespace();
  }
}

void Parser::check_utf8() const {
  // Python's strict decoder: no overlong forms, no surrogates, nothing above U+10FFFF.
  const auto* s = reinterpret_cast<const unsigned char*>(text_.data());
  const size_t n = text_.size();
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, s + i, 8);
      if ((word & 0x8080808080808080u) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra;
    unsigned lo = 0x80, hi = 0xBF;  // the second byte's range
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      fail("invalid UTF-8", i);
    }
    if (i + extra >= n || s[i + 1] < lo || s[i + 1] > hi) fail("invalid UTF-8", i);
    for (size_t k = 2; k <= extra; ++k)
      if ((s[i + k] & 0xC0) != 0x80) fail("invalid UTF-8", i);
    i += extra + 1;
  }
}

void Parser::open(bool object) {
  if (frames_.size() >= static_cast<size_t>(std::max(max_depth_, 0)))
    fail("nesting deeper than " + std::to_string(max_depth_) + " levels", pos_);
  frames_.push_back({static_cast<uint32_t>(pending_.size()), static_cast<uint32_t>(pos_), object});
}

void Parser::close() {
  const Frame frame = frames_.back();
  frames_.pop_back();
  const uint32_t count = static_cast<uint32_t>(pending_.size()) - frame.pending_begin;
  if (frame.object) check_duplicates(frame.pending_begin, count / 2);
  std::vector<Node>& nodes = doc_.nodes_;
  Node node = make_node(frame.object ? Type::kObject : Type::kArray);
  node.size = frame.object ? count / 2 : count;
  node.span = {static_cast<uint32_t>(nodes.size()), frame.at};
  nodes.insert(nodes.end(), pending_.begin() + frame.pending_begin, pending_.end());
  pending_.resize(frame.pending_begin);
  pending_.push_back(node);
}

void Parser::key() {
  if (peek() != '"') fail("expecting property name in double quotes", pos_);
  string();
  skip_whitespace();
  if (peek() != ':') fail("expecting ':'", pos_);
  ++pos_;
  skip_whitespace();
}

void Parser::scalar() {
  Node node = make_node(Type::kNull);
  switch (peek()) {
    case '"':
      return string();
    case 'n':
      return literal("null", node);
    case 't':
      node.type = Type::kBool;
      node.integer = 1;
      return literal("true", node);
    case 'f':
      node.type = Type::kBool;
      return literal("false", node);
    case 'N':
      node.type = Type::kFloat;
      node.number = std::numeric_limits<double>::quiet_NaN();
      return literal("NaN", node);
    case 'I':
      node.type = Type::kFloat;
      node.number = std::numeric_limits<double>::infinity();
      return literal("Infinity", node);
    case '-':
      if (text_.substr(pos_ + 1, 1) == "I") {
        node.type = Type::kFloat;
        node.number = -std::numeric_limits<double>::infinity();
        return literal("-Infinity", node);
      }
      return number();
    default:
      if (is_digit(peek())) return number();
      fail("expecting value", pos_);
  }
}

void Parser::literal(std::string_view word, Node node) {
  if (text_.substr(pos_, word.size()) != word) fail("expecting value", pos_);
  pos_ += word.size();
  pending_.push_back(node);
}

void Parser::number() {
  // Python's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?
  const size_t begin = pos_;
  const bool negative = peek() == '-';
  if (negative) ++pos_;
  if (!is_digit(peek())) fail("expecting value", begin);
  if (peek() == '0') {
    ++pos_;
  } else {
    while (is_digit(peek())) ++pos_;
  }
  const size_t int_end = pos_;
  bool is_float = false;
  if (peek() == '.' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1])) {
    pos_ += 2;
    while (is_digit(peek())) ++pos_;
    is_float = true;
  }
  int64_t exponent = 0;  // saturated: only its sign matters below
  if (peek() == 'e' || peek() == 'E') {
    size_t p = pos_ + 1;
    const bool exp_negative = p < text_.size() && text_[p] == '-';
    if (p < text_.size() && (text_[p] == '-' || text_[p] == '+')) ++p;
    if (p < text_.size() && is_digit(text_[p])) {
      for (pos_ = p; is_digit(peek()); ++pos_)
        exponent = std::min<int64_t>(exponent * 10 + (text_[pos_] - '0'), 1'000'000'000);
      if (exp_negative) exponent = -exponent;
      is_float = true;
    }  // else "1e" is the number 1 followed by extra text, as in Python
  }
  const std::string_view literal = text_.substr(begin, pos_ - begin);

  Node node = make_node(Type::kInt);
  if (is_float) {
    node.type = Type::kFloat;
    const auto [end, error] =
        std::from_chars(literal.data(), literal.data() + literal.size(), node.number);
    if (error == std::errc::result_out_of_range) {
      // Python's float() gives ±inf or ±0.0 here: which one follows from the decimal exponent
      // of the first nonzero digit (the value is far from 1 either way).
      const std::string_view digits = text_.substr(begin + negative, int_end - begin - negative);
      int64_t scale = exponent + static_cast<int64_t>(digits.size()) - 1;
      if (digits == "0") {
        size_t first = int_end + 1;  // the fraction's first digit
        while (text_[first] == '0') ++first;
        scale = exponent - static_cast<int64_t>(first - int_end);
      }
      node.number = scale >= 0 ? std::numeric_limits<double>::infinity() : 0.0;
      if (negative) node.number = -node.number;
    } else if (error != std::errc() || end != literal.data() + literal.size()) {
      fail("cannot read number", begin);  // unreachable: the grammar was checked above
    }
    pending_.push_back(node);
    return;
  }

  const size_t digits = int_end - begin - negative;
  if (digits > kMaxIntDigits)
    fail("integer literal with more than " + std::to_string(kMaxIntDigits) + " digits", begin);
  // Accumulate the magnitude; it fits int64 up to 2^63 - 1, or 2^63 when negative.
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  uint64_t magnitude = 0;
  bool fits = digits <= 19;
  for (size_t i = begin + negative; fits && i < int_end; ++i) {
    const uint64_t digit = static_cast<uint64_t>(text_[i] - '0');
    if (magnitude > (limit - digit) / 10) fits = false;
    magnitude = magnitude * 10 + digit;
  }
  if (fits) {
    node.integer = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  } else {
    node.type = Type::kBigInt;
    node.size = static_cast<uint32_t>(literal.size());
    node.span = {static_cast<uint32_t>(doc_.chars_.size()), static_cast<uint32_t>(begin)};
    doc_.chars_.append(literal);
  }
  pending_.push_back(node);
}

uint32_t Parser::hex4(size_t at) const {
  if (at + 4 > text_.size()) fail("invalid \\uXXXX escape", at - 2);
  uint32_t value = 0;
  for (size_t i = at; i < at + 4; ++i) {
    const char c = text_[i];
    uint32_t digit;
    if (is_digit(c)) {
      digit = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<uint32_t>(c - 'A' + 10);
    } else {
      fail("invalid \\uXXXX escape", at - 2);
    }
    value = value * 16 + digit;
  }
  return value;
}

void Parser::string() {
  const size_t open = pos_++;
  std::string& out = doc_.chars_;
  const size_t begin = out.size();
  for (;;) {
    // Copy the run up to the next quote, backslash or control character in one go. The text is
    // valid UTF-8 already, so multi-byte characters pass through as they are.
    const size_t run = pos_;
    while (!at_end()) {
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"' || c == '\\' || c < 0x20) break;
      ++pos_;
    }
    out.append(text_.data() + run, pos_ - run);
    if (at_end()) fail("unterminated string starting", open);
    const char c = text_[pos_];
    if (c == '"') {
      ++pos_;
      break;
    }
    if (c != '\\') fail("invalid control character in string", pos_);
    if (pos_ + 1 >= text_.size()) fail("unterminated string starting", open);
    const size_t escape = pos_;
    switch (text_[pos_ + 1]) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t cp = hex4(pos_ + 2);
        pos_ += 4;
        if (cp >= 0xD800 && cp <= 0xDFFF) {
          // Only a high surrogate followed by a low one is a character; Python would keep a
          // lone one in the str, but it has no UTF-8 form.
          const bool paired = cp <= 0xDBFF && text_.substr(pos_ + 2, 2) == "\\u";
          const uint32_t low = paired ? hex4(pos_ + 4) : 0;
          if (low < 0xDC00 || low > 0xDFFF) fail("lone surrogate in \\uXXXX escape", escape);
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          pos_ += 6;
        }
        append_utf8(out, cp);
        break;
      }
      default:
        fail("invalid escape", escape);
    }
    pos_ += 2;
  }
  Node node = make_node(Type::kString);
  node.size = static_cast<uint32_t>(out.size() - begin);
  node.span = {static_cast<uint32_t>(begin), static_cast<uint32_t>(open)};
  pending_.push_back(node);
}

void Parser::check_duplicates(uint32_t begin, uint32_t members) {
  // Python's hook walks the members in order and stops at the first key seen before; find that
  // one in O(n log n): sort member indices by (key, index); in each run of equal keys the
  // second is that key's first repeat, and the earliest such repeat is Python's.
  if (members < 2) return;
  const auto key_of = [&](uint32_t member) { return chars(pending_[begin + 2 * member]); };
  uint32_t repeat = members;
  if (members <= 8) {
    for (uint32_t j = 1; j < members && repeat == members; ++j)
      for (uint32_t i = 0; i < j; ++i)
        if (key_of(i) == key_of(j)) {
          repeat = j;
          break;
        }
  } else {
    order_.resize(members);
    for (uint32_t i = 0; i < members; ++i) order_[i] = i;
    std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
      const int cmp = key_of(a).compare(key_of(b));
      return cmp != 0 ? cmp < 0 : a < b;
    });
    for (uint32_t i = 1; i < members; ++i)
      if (key_of(order_[i]) == key_of(order_[i - 1]) &&
          (i < 2 || key_of(order_[i - 1]) != key_of(order_[i - 2])))
        repeat = std::min(repeat, order_[i]);
  }
  if (repeat == members) return;
  const Node& key = pending_[begin + 2 * repeat];
  std::string shown;
  append_str_repr(shown, chars(key), kReprLimit);
  cut_repr(shown);
  fail("duplicate key " + shown, key.span.at);
}

Document Document::parse(std::string_view text, int max_depth) {
  static_assert(sizeof(Node) == 16, "a value costs 16 bytes");
  Document doc;
  Parser(text, max_depth, doc).run();
  // Vectors grow by doubling; give back a large unused tail.
  if (doc.nodes_.capacity() > doc.nodes_.size() + doc.nodes_.size() / 4 + 64)
    doc.nodes_.shrink_to_fit();
  if (doc.chars_.capacity() > doc.chars_.size() + doc.chars_.size() / 4 + 64)
    doc.chars_.shrink_to_fit();
  return doc;
}

// ---------------------------------------------------------------------------------- Ref

namespace {

[[noreturn]] void misuse(const char* accessor, Ref value) {
  throw std::logic_error(std::string("json: ") + accessor + " on a " + type_name(value) + " value");
}

}  // namespace

Type Ref::type() const {
  // A default-constructed Document holds no value at all.
  if (doc_ == nullptr || node_ >= doc_->nodes_.size())
    throw std::logic_error("json: use of an invalid Ref");
  return doc_->node(node_).type;
}

bool Ref::as_bool() const {
  if (type() != Type::kBool) misuse("as_bool()", *this);
  return doc_->node(node_).integer != 0;
}

int64_t Ref::as_int() const {
  if (type() != Type::kInt)
    misuse(type() == Type::kBigInt ? "as_int() (the integer is outside int64)" : "as_int()", *this);
  return doc_->node(node_).integer;
}

double Ref::as_float() const {
  if (type() != Type::kFloat) misuse("as_float()", *this);
  return doc_->node(node_).number;
}

std::string_view Ref::as_string() const {
  if (type() != Type::kString && type() != Type::kBigInt) misuse("as_string()", *this);
  const Document::Node& node = doc_->node(node_);
  return std::string_view(doc_->chars_).substr(node.span.begin, node.size);
}

size_t Ref::size() const {
  const Type t = type();
  return t == Type::kArray || t == Type::kObject ? doc_->node(node_).size : 0;
}

Ref Ref::item(size_t i) const {
  const Type t = type();
  if (t != Type::kArray && t != Type::kObject) misuse("item()", *this);
  const Document::Node& node = doc_->node(node_);
  if (i >= node.size)
    throw std::logic_error("json: item(" + std::to_string(i) + ") of a " + type_name(*this) +
                           " of size " + std::to_string(node.size));
  const size_t stride = t == Type::kObject ? 2 : 1;
  return Ref(doc_, static_cast<uint32_t>(node.span.begin + stride * i + (stride - 1)));
}

std::string_view Ref::key(size_t i) const {
  if (type() != Type::kObject) misuse("key()", *this);
  const Document::Node& node = doc_->node(node_);
  if (i >= node.size)
    throw std::logic_error("json: key(" + std::to_string(i) + ") of an object of size " +
                           std::to_string(node.size));
  return Ref(doc_, static_cast<uint32_t>(node.span.begin + 2 * i)).as_string();
}

Ref Ref::find(std::string_view key) const {
  if (type() != Type::kObject) misuse("find()", *this);
  const size_t members = size();
  for (size_t i = 0; i < members; ++i)
    if (this->key(i) == key) return item(i);
  return Ref();
}

// ------------------------------------------------------------------------- type_name, repr

const char* type_name(Ref value) {
  switch (value.type()) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "bool";
    case Type::kInt:
    case Type::kBigInt:
      return "int";
    case Type::kFloat:
      return "float";
    case Type::kString:
      return "str";
    case Type::kArray:
      return "list";
    case Type::kObject:
      return "object";
  }
  return "?";
}

namespace {

void append_float_repr(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "nan";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "inf" : "-inf";
    return;
  }
  // The shortest digits that read back as `value`, laid out as Python's repr does: positional
  // for decimal exponents -4..15, else d.ddde+XX.
  char buffer[64];
  const auto result =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  const std::string_view sci(buffer, static_cast<size_t>(result.ptr - buffer));  // -d.ddde-XX
  const size_t e = sci.find('e');
  std::string_view mantissa = sci.substr(0, e);
  if (!mantissa.empty() && mantissa[0] == '-') {
    out += '-';
    mantissa.remove_prefix(1);
  }
  std::string digits(mantissa.substr(0, 1));
  if (mantissa.size() > 2) digits += mantissa.substr(2);  // skip the '.'
  int exponent = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+'), sci.data() + sci.size(), exponent);

  if (exponent < -4 || exponent >= 16) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exponent < 0 ? "e-" : "e+";
    const int magnitude = exponent < 0 ? -exponent : exponent;
    if (magnitude < 10) out += '0';
    out += std::to_string(magnitude);
  } else if (exponent < 0) {
    out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  } else {
    const size_t int_digits = static_cast<size_t>(exponent) + 1;
    if (digits.size() <= int_digits) {
      out += digits + std::string(int_digits - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, int_digits) + "." + digits.substr(int_digits);
    }
  }
}

// Whether Python's repr() escapes code point `cp` (>= 0x80): str.isprintable() is false for
// controls, format characters, separators other than space, private use and noncharacters.
// This covers those a header plausibly holds; other unassigned code points print as they are.
bool escaped_in_repr(uint32_t cp) {
  return cp <= 0xA0 || cp == 0xAD || (cp >= 0x600 && cp <= 0x605) || cp == 0x61C || cp == 0x6DD ||
         cp == 0x70F || cp == 0x1680 || cp == 0x180E || (cp >= 0x2000 && cp <= 0x200F) ||
         (cp >= 0x2028 && cp <= 0x202F) || (cp >= 0x205F && cp <= 0x2064) ||
         (cp >= 0x2066 && cp <= 0x206F) || cp == 0x3000 || (cp >= 0xD800 && cp <= 0xF8FF) ||
         cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) || (cp & 0xFFFE) == 0xFFFE ||
         (cp >= 0xE0000 && cp <= 0xE007F) || cp >= 0xF0000;
}

void append_hex(std::string& out, char kind, uint32_t value, int digits) {
  static const char kDigits[] = "0123456789abcdef";
  out += '\\';
  out += kind;
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += kDigits[(value >> shift) & 15];
}

void append_str_repr(std::string& out, std::string_view text, size_t limit) {
  // Python picks double quotes for a str holding ' but no ".
  const char quote =
      text.find('\'') != std::string_view::npos && text.find('"') == std::string_view::npos ? '"'
                                                                                            : '\'';
  out += quote;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size() && out.size() <= limit;) {
    const uint32_t c = s[i];
    if (c < 0x80) {
      if (c == static_cast<unsigned char>(quote) || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c < 0x20 || c == 0x7F) {
        append_hex(out, 'x', c, 2);
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // The text is valid UTF-8 (the parser checked it).
    const size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    uint32_t cp = c & (0x7F >> length);
    for (size_t k = 1; k < length && i + k < text.size(); ++k) cp = cp << 6 | (s[i + k] & 0x3F);
    if (!escaped_in_repr(cp)) {
      out.append(text.data() + i, std::min(length, text.size() - i));
    } else if (cp <= 0xFF) {
      append_hex(out, 'x', cp, 2);
    } else if (cp <= 0xFFFF) {
      append_hex(out, 'u', cp, 4);
    } else {
      append_hex(out, 'U', cp, 8);
    }
    i += length;
  }
  out += quote;
}

// Appends the repr of `value`, stopping early once `out` is past the limit (so a deep or long
// value costs no more than the limit: every level adds a character before going deeper).
void append_repr(std::string& out, Ref value) {
  if (out.size() > kReprLimit) return;
  switch (value.type()) {
    case Type::kNull:
      out += "None";
      return;
    case Type::kBool:
      out += value.as_bool() ? "True" : "False";
      return;
    case Type::kInt:
      out += std::to_string(value.as_int());
      return;
    case Type::kBigInt:
      out += value.as_string().substr(0, kReprLimit + 1);
      return;
    case Type::kFloat:
      append_float_repr(out, value.as_float());
      return;
    case Type::kString:
      append_str_repr(out, value.as_string(), kReprLimit);
      return;
    case Type::kArray:
    case Type::kObject: {
      const bool object = value.type() == Type::kObject;
      out += object ? '{' : '[';
      for (size_t i = 0; i < value.size() && out.size() <= kReprLimit; ++i) {
        if (i > 0) out += ", ";
        if (object) {
          append_str_repr(out, value.key(i), kReprLimit);
          out += ": ";
        }
        append_repr(out, value.item(i));
      }
      out += object ? '}' : ']';
      return;
    }
  }
}

void cut_repr(std::string& out) {
  if (out.size() <= kReprLimit) return;
  size_t cut = kReprLimit;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  out += "...";
}

}  // namespace

std::string repr(Ref value) {
  std::string out;
  append_repr(out, value);
  cut_repr(out);
  return out;
}

}  // namespace xnorinfer::json
