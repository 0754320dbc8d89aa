// json::Document against what Python's json.loads(text.decode("utf-8")) with a duplicate-key
// hook accepts and refuses: every literal form, escapes, numbers at the edges of int64 and
// double, the refusals (each with the words its message must hold), the depth limit, duplicate
// keys in file order, a million-member object, repr() and type_name().
#include "xnorinfer/model/json.h"

#include <cmath>
#include <limits>
#include <string>

#include "check.h"

namespace xnorinfer::json {
namespace {

// Parses `text`, recording a failure (not throwing) when it is refused.
Document parse_ok(std::string_view text, int max_depth = Document::kDefaultMaxDepth) {
  try {
    return Document::parse(text, max_depth);
  } catch (const ParseError& error) {
    test::fail(__FILE__, __LINE__,
               "refused '" + std::string(text.substr(0, 80)) + "': " + error.what());
    return Document::parse("null");
  }
}

// Whether `text` is refused with a message holding `words`; records a failure otherwise.
void check_refused(std::string_view text, const std::string& words, int line,
                   int max_depth = Document::kDefaultMaxDepth) {
  ++test::Registry::get().checks;
  const std::string shown = std::string(text.substr(0, 60)) + (text.size() > 60 ? "..." : "");
  try {
    Document::parse(text, max_depth);
    test::fail(__FILE__, line, "accepted '" + shown + "', expected a refusal: " + words);
  } catch (const ParseError& error) {
    if (std::string(error.what()).find(words) == std::string::npos)
      test::fail(__FILE__, line,
                 "'" + shown + "' refused with '" + error.what() + "', expected: " + words);
  }
}
#define CHECK_REFUSED(text, words) check_refused((text), (words), __LINE__)

double parse_float(std::string_view text) {
  const Document doc = parse_ok(text);
  CHECK(doc.root().type() == Type::kFloat);
  return doc.root().type() == Type::kFloat ? doc.root().as_float() : 0.0;
}

TEST(literals) {
  CHECK(parse_ok("null").root().type() == Type::kNull);
  CHECK_EQ(parse_ok("true").root().as_bool(), true);
  CHECK_EQ(parse_ok("false").root().as_bool(), false);
  CHECK(std::isnan(parse_float("NaN")));
  CHECK_EQ(parse_float("Infinity"), std::numeric_limits<double>::infinity());
  CHECK_EQ(parse_float("-Infinity"), -std::numeric_limits<double>::infinity());
  CHECK_EQ(parse_ok(" \t\r\n 7 \n\t\r ").root().as_int(), 7);  // JSON's four whitespace bytes
}

TEST(integers) {
  CHECK_EQ(parse_ok("0").root().as_int(), 0);
  CHECK_EQ(parse_ok("-0").root().as_int(), 0);
  CHECK(parse_ok("-0").root().type() == Type::kInt);
  CHECK_EQ(parse_ok("42").root().as_int(), 42);
  CHECK_EQ(parse_ok("-17").root().as_int(), -17);
  CHECK_EQ(parse_ok("9223372036854775807").root().as_int(), std::numeric_limits<int64_t>::max());
  CHECK_EQ(parse_ok("-9223372036854775808").root().as_int(), std::numeric_limits<int64_t>::min());

  // Past int64: kBigInt with the literal's text; still an int to Python.
  for (std::string_view big :
       {"9223372036854775808", "-9223372036854775809", "-1180591620717411303424",
        "18446744073709551616", "100000000000000000000"}) {
    const Document doc = parse_ok(big);
    CHECK_EQ_CTX(doc.root().type() == Type::kBigInt, true, std::string(big));
    CHECK(doc.root().is_int());
    CHECK_STR(doc.root().as_string(), big);
    CHECK_STR(type_name(doc.root()), "int");
    CHECK_STR(repr(doc.root()), big);
  }
  // Python's limit is 4300 digits, the sign not counted.
  CHECK(parse_ok(std::string(4300, '7')).root().type() == Type::kBigInt);
  CHECK_EQ(parse_ok("-" + std::string(4300, '7')).root().as_string().size(), size_t{4301});
  CHECK_REFUSED(std::string(4301, '7'), "integer literal with more than 4300 digits at byte 0");
  CHECK_REFUSED("[-" + std::string(4301, '7') + "]", "more than 4300 digits at byte 1");
}

TEST(floats) {
  CHECK_EQ(parse_float("1.5"), 1.5);
  CHECK_EQ(parse_float("0.1"), 0.1);
  CHECK_EQ(parse_float("-2.5e-3"), -2.5e-3);
  CHECK_EQ(parse_float("1E2"), 100.0);
  CHECK_EQ(parse_float("1e+2"), 100.0);
  CHECK_EQ(parse_float("0e0"), 0.0);
  CHECK_EQ(parse_float("1.7976931348623157e308"), std::numeric_limits<double>::max());
  CHECK_EQ(parse_float("5e-324"), std::numeric_limits<double>::denorm_min());
  // Halfway to the smallest subnormal: just above rounds up, just below rounds to zero.
  CHECK_EQ(parse_float("2.4703282292062328e-324"), std::numeric_limits<double>::denorm_min());
  CHECK_EQ(parse_float("2.4703282292062327e-324"), 0.0);
  // Correct rounding of a long mantissa.
  CHECK_EQ(parse_float("0.1000000000000000055511151231257827021181583404541015625"), 0.1);
  CHECK_EQ(parse_float("3." + std::string(5000, '3')), 10.0 / 3.0);

  // Out of range: Python's float() gives ±inf or ±0.0, with the literal's sign.
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_EQ(parse_float("1e400"), inf);
  CHECK_EQ(parse_float("-1e400"), -inf);
  CHECK_EQ(parse_float("1.7976931348623159e308"), inf);
  CHECK_EQ(parse_float("1e99999999999999999999"), inf);
  CHECK_EQ(parse_float("0.00000001e317"), inf);
  CHECK_EQ(parse_float("123456789e-1000"), 0.0);
  CHECK_EQ(parse_float("1e-99999999999999999999"), 0.0);
  CHECK_EQ(parse_float("0.00000001e-317"), 0.0);
  CHECK(std::signbit(parse_float("-0.00000001e-317")));
  CHECK_EQ(parse_float("-0.00000001e317"), -inf);
  CHECK_EQ(parse_float("0." + std::string(400, '0') + "1e400"), 0.1);
  const double tiny = parse_float("1e-400");
  CHECK_EQ(tiny, 0.0);
  CHECK(!std::signbit(tiny));
  const double minus_tiny = parse_float("-1e-400");
  CHECK_EQ(minus_tiny, 0.0);
  CHECK(std::signbit(minus_tiny));
  const double minus_zero = parse_float("-0.0");
  CHECK_EQ(minus_zero, 0.0);
  CHECK(std::signbit(minus_zero));
  CHECK(std::signbit(parse_float("-0e5")));
}

TEST(strings) {
  CHECK_STR(parse_ok(R"("")").root().as_string(), "");
  CHECK_STR(parse_ok(R"("plain text")").root().as_string(), "plain text");
  CHECK_STR(parse_ok(R"("\" \\ \/ \b \f \n \r \t")").root().as_string(), "\" \\ / \b \f \n \r \t");
  CHECK_STR(parse_ok(R"("\u00e9\u00E9\u4e2D")").root().as_string(), "\xC3\xA9\xC3\xA9\xE4\xB8\xAD");
  CHECK_STR(parse_ok(R"("\u0041\u007f\u0080\u07ff\u0800\uffff")").root().as_string(),
            "A\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF");
  // A surrogate pair is one code point, stored as 4 UTF-8 bytes.
  CHECK_STR(parse_ok(R"("\ud83d\ude00")").root().as_string(), "\xF0\x9F\x98\x80");
  CHECK_STR(parse_ok(R"("\uD800\uDC00\uDBFF\uDFFF")").root().as_string(),
            "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF");
  // Raw UTF-8 passes through; DEL is not a control character to JSON.
  CHECK_STR(parse_ok("\"\xC3\xA9\xF0\x9F\x98\x80\x7F\"").root().as_string(),
            "\xC3\xA9\xF0\x9F\x98\x80\x7F");
  // \u0000 is a NUL byte inside the string.
  const Document nul = parse_ok(R"("a\u0000b")");
  CHECK_EQ(nul.root().as_string().size(), size_t{3});
  CHECK_STR(nul.root().as_string(), std::string("a\0b", 3));
  CHECK_STR(type_name(nul.root()), "str");
}

TEST(containers) {
  const Document doc = parse_ok(
      R"( {"name": "conv1", "shape": [1, 3, 224, 224], "attrs": {"stride": [2, 2], "pad": null},
           "empty": [], "none": {}, "z": 1.5, "a": true} )");
  const Ref root = doc.root();
  CHECK(root.type() == Type::kObject);
  CHECK_EQ(root.size(), size_t{7});
  // Members keep file order.
  const char* keys[] = {"name", "shape", "attrs", "empty", "none", "z", "a"};
  for (size_t i = 0; i < 7; ++i) CHECK_STR(root.key(i), keys[i]);
  CHECK_STR(root.item(0).as_string(), "conv1");
  CHECK_STR(root.find("name").as_string(), "conv1");

  const Ref shape = root.find("shape");
  CHECK(shape.type() == Type::kArray);
  CHECK_EQ(shape.size(), size_t{4});
  CHECK_EQ(shape.item(0).as_int(), 1);
  CHECK_EQ(shape.item(3).as_int(), 224);

  const Ref attrs = root.find("attrs");
  CHECK_EQ(attrs.find("stride").item(1).as_int(), 2);
  CHECK(attrs.find("pad").type() == Type::kNull);
  CHECK(!attrs.find("dilation").valid());
  CHECK(!root.find("Name").valid());
  CHECK(!root.find("").valid());
  CHECK_EQ(root.find("empty").size(), size_t{0});
  CHECK_EQ(root.find("none").size(), size_t{0});
  CHECK_EQ(root.find("z").as_float(), 1.5);
  CHECK_EQ(root.find("a").as_bool(), true);
  CHECK_EQ(root.item(5).size(), size_t{0});  // a scalar's size is 0

  // Deeper nesting, and arrays of containers.
  const Document nested = parse_ok(R"([[1, [2, [3, {"k": [4, {"": "x"}]}]]], {}, [[]]])");
  const Ref deep = nested.root().item(0).item(1).item(1).item(1).find("k");
  CHECK_EQ(deep.item(0).as_int(), 4);
  CHECK_STR(deep.item(1).find("").as_string(), "x");
  CHECK_EQ(nested.root().item(2).item(0).size(), size_t{0});

  // Keys with escapes and NUL compare by their decoded bytes.
  const Document escaped = parse_ok(R"({"\u00e9": 1, "a\u0000b": 2, "a\u0000c": 3})");
  CHECK_EQ(escaped.root().find("\xC3\xA9").as_int(), 1);
  CHECK_EQ(escaped.root().find(std::string_view("a\0c", 3)).as_int(), 3);
  CHECK(!escaped.root().find("a").valid());
}

TEST(refused_syntax) {
  CHECK_REFUSED("", "expecting value at byte 0");
  CHECK_REFUSED("   ", "expecting value at byte 3");
  CHECK_REFUSED("nul", "expecting value");
  CHECK_REFUSED("True", "expecting value");
  CHECK_REFUSED("nan", "expecting value");
  CHECK_REFUSED("inf", "expecting value");
  CHECK_REFUSED("+Infinity", "expecting value");
  CHECK_REFUSED("-infinity", "expecting value");
  CHECK_REFUSED("-NaN", "expecting value");
  CHECK_REFUSED("nullx", "extra data at byte 4");
  CHECK_REFUSED("1 2", "extra data at byte 2");
  CHECK_REFUSED("[1] x", "extra data at byte 4");
  CHECK_REFUSED("{}{}", "extra data at byte 2");
  CHECK_REFUSED(std::string("1\0", 2), "extra data at byte 1");
  // Only space, tab, newline and carriage return are whitespace.
  CHECK_REFUSED("\v1", "expecting value at byte 0");
  CHECK_REFUSED("\f1", "expecting value at byte 0");
  CHECK_REFUSED("1 \xC2\xA0", "extra data at byte 2");
  CHECK_REFUSED("\xEF\xBB\xBF{}", "byte order mark");

  // Numbers.
  CHECK_REFUSED("01", "extra data at byte 1");
  CHECK_REFUSED("-01", "extra data at byte 2");
  CHECK_REFUSED("1.", "extra data at byte 1");
  CHECK_REFUSED(".5", "expecting value at byte 0");
  CHECK_REFUSED("-", "expecting value at byte 0");
  CHECK_REFUSED("-a", "expecting value at byte 0");
  CHECK_REFUSED("--1", "expecting value at byte 0");
  CHECK_REFUSED("+1", "expecting value at byte 0");
  CHECK_REFUSED("1e", "extra data at byte 1");
  CHECK_REFUSED("1e+", "extra data at byte 1");
  CHECK_REFUSED("1.5e-", "extra data at byte 3");
  CHECK_REFUSED("0x10", "extra data at byte 1");
  CHECK_REFUSED("[1.]", "expecting ',' or ']' at byte 2");

  // Arrays and objects.
  CHECK_REFUSED("[", "expecting value at byte 1");
  CHECK_REFUSED("[1", "expecting ',' or ']' at byte 2");
  CHECK_REFUSED("[1 2]", "expecting ',' or ']' at byte 3");
  CHECK_REFUSED("[1,]", "expecting value at byte 3");
  CHECK_REFUSED("[,1]", "expecting value at byte 1");
  CHECK_REFUSED("[1}", "expecting ',' or ']' at byte 2");
  CHECK_REFUSED("{", "expecting property name in double quotes at byte 1");
  CHECK_REFUSED("{1: 2}", "expecting property name in double quotes at byte 1");
  CHECK_REFUSED("{'a': 2}", "expecting property name in double quotes at byte 1");
  CHECK_REFUSED(R"({"a" 2})", "expecting ':' at byte 5");
  CHECK_REFUSED(R"({"a": })", "expecting value at byte 6");
  CHECK_REFUSED(R"({"a": 1,})", "expecting property name in double quotes at byte 8");
  CHECK_REFUSED(R"({"a": 1 "b": 2})", "expecting ',' or '}' at byte 8");
  CHECK_REFUSED(R"({"a": 1])", "expecting ',' or '}' at byte 7");
  CHECK_REFUSED("]", "expecting value at byte 0");
}

TEST(refused_strings) {
  CHECK_REFUSED(R"(")", "unterminated string starting at byte 0");
  CHECK_REFUSED(R"(["abc)", "unterminated string starting at byte 1");
  CHECK_REFUSED(R"("abc\)", "unterminated string starting at byte 0");
  CHECK_REFUSED("\"a\nb\"", "invalid control character in string at byte 2");
  CHECK_REFUSED("\"a\tb\"", "invalid control character in string at byte 2");
  CHECK_REFUSED(std::string("\"a\0b\"", 5), "invalid control character in string at byte 2");
  CHECK_REFUSED("\"\x1F\"", "invalid control character");
  CHECK_REFUSED(R"("\x41")", "invalid escape at byte 1");
  CHECK_REFUSED(R"("\a")", "invalid escape at byte 1");
  CHECK_REFUSED(R"("\U0041")", "invalid escape at byte 1");
  CHECK_REFUSED(R"("\'")", "invalid escape at byte 1");
  CHECK_REFUSED(R"("\u00")", "invalid \\uXXXX escape at byte 1");
  CHECK_REFUSED(R"("\u00g0")", "invalid \\uXXXX escape at byte 1");
  CHECK_REFUSED(R"("\u 123")", "invalid \\uXXXX escape at byte 1");
  CHECK_REFUSED(R"("\u12)", "invalid \\uXXXX escape");
  // Lone surrogates: Python keeps them in the str; they have no UTF-8 form, so they are refused.
  CHECK_REFUSED(R"("\ud83d")", "lone surrogate in \\uXXXX escape at byte 1");
  CHECK_REFUSED(R"("\ude00")", "lone surrogate in \\uXXXX escape at byte 1");
  CHECK_REFUSED(R"("\ude00\ud83d")", "lone surrogate");
  CHECK_REFUSED(R"("\ud83dx")", "lone surrogate");
  CHECK_REFUSED(R"("\ud83d\u0041")", "lone surrogate");
  CHECK_REFUSED(R"("\ud83d\ud83d\ude00")", "lone surrogate in \\uXXXX escape at byte 1");
  CHECK_REFUSED(R"("\ud83d\n")", "lone surrogate");
  CHECK_REFUSED(R"({"\udfff": 1})", "lone surrogate in \\uXXXX escape at byte 2");
  CHECK_REFUSED(R"("\ud83d\ude0")", "invalid \\uXXXX escape");
}

TEST(refused_utf8) {
  // Python's strict decoder runs over the whole text first, inside strings or not.
  CHECK_REFUSED("\"\xFF\"", "invalid UTF-8 at byte 1");
  CHECK_REFUSED("\"ab\x80\"", "invalid UTF-8 at byte 3");
  CHECK_REFUSED("\"\xC0\x80\"", "invalid UTF-8 at byte 1");          // overlong NUL
  CHECK_REFUSED("\"\xC1\xBF\"", "invalid UTF-8 at byte 1");          // overlong
  CHECK_REFUSED("\"\xE0\x9F\xBF\"", "invalid UTF-8 at byte 1");      // overlong 3-byte
  CHECK_REFUSED("\"\xF0\x8F\xBF\xBF\"", "invalid UTF-8 at byte 1");  // overlong 4-byte
  CHECK_REFUSED("\"\xED\xA0\x80\"", "invalid UTF-8 at byte 1");      // U+D800
  CHECK_REFUSED("\"\xED\xBF\xBF\"", "invalid UTF-8 at byte 1");      // U+DFFF
  CHECK_REFUSED("\"\xF4\x90\x80\x80\"", "invalid UTF-8 at byte 1");  // U+110000
  CHECK_REFUSED("\"\xF5\x80\x80\x80\"", "invalid UTF-8 at byte 1");
  CHECK_REFUSED("\"\xE2\x82\"", "invalid UTF-8 at byte 1");  // truncated
  CHECK_REFUSED("\"\xC3", "invalid UTF-8 at byte 1");        // truncated at the end
  CHECK_REFUSED("\"\xF0\x9F\x98", "invalid UTF-8 at byte 1");
  CHECK_REFUSED("\"\xE2\x28\xA1\"", "invalid UTF-8 at byte 1");
  CHECK_REFUSED("[1] \xFF", "invalid UTF-8 at byte 4");      // after the value
  CHECK_REFUSED("[1, \xFF", "invalid UTF-8 at byte 4");      // before a syntax error
  CHECK_REFUSED("12345678\x80", "invalid UTF-8 at byte 8");  // past the 8-byte fast path
  // The edges of each range are fine.
  CHECK_STR(parse_ok("\"\xC2\x80\xED\x9F\xBF\xEE\x80\x80\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"")
                .root()
                .as_string(),
            "\xC2\x80\xED\x9F\xBF\xEE\x80\x80\xF0\x90\x80\x80\xF4\x8F\xBF\xBF");
}

TEST(depth_limit) {
  const auto nest = [](int depth, const std::string& open, const std::string& inner,
                       const std::string& close) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += open;
    text += inner;
    for (int i = 0; i < depth; ++i) text += close;
    return text;
  };
  const int max = Document::kDefaultMaxDepth;
  CHECK_EQ(parse_ok(nest(max, "[", "", "]")).root().size(), size_t{1});
  CHECK_EQ(parse_ok(nest(max, "{\"a\":", "1", "}")).root().size(), size_t{1});
  CHECK_EQ(parse_ok(nest(max / 2, "[{\"a\":", "1", "}]")).root().size(), size_t{1});
  CHECK_REFUSED(nest(max + 1, "[", "", "]"), "nesting deeper than 512 levels at byte 512");
  CHECK_REFUSED(nest(max + 1, "{\"a\":", "1", "}"), "nesting deeper than 512 levels");
  CHECK_REFUSED(nest(max / 2, "[{\"a\":", "[]", "}]"), "nesting deeper than 512 levels");
  CHECK_REFUSED(std::string(100000, '['), "nesting deeper than 512 levels at byte 512");
  CHECK_REFUSED(std::string(100000, '{'), "expecting property name");
  CHECK_REFUSED(nest(100000, "{\"a\":", "1", "}"), "nesting deeper than 512 levels");

  // Depth counts open containers only, at any limit.
  CHECK_EQ(parse_ok("[[[1]]]", 3).root().size(), size_t{1});
  check_refused("[[[[1]]]]", "nesting deeper than 3 levels", __LINE__, 3);
  CHECK_EQ(parse_ok("[1, [2], [3]]", 2).root().size(), size_t{3});
  CHECK_EQ(parse_ok("\"s\"", 0).root().as_string().size(), size_t{1});
  check_refused("[]", "nesting deeper than 0 levels", __LINE__, 0);
  check_refused("{}", "nesting deeper than", __LINE__, -5);
  // A limit far above the default costs no C++ stack (the parser keeps its own).
  CHECK_EQ(parse_ok(nest(200000, "[", "", "]"), 1000000).root().size(), size_t{1});
}

TEST(duplicate_keys) {
  CHECK_REFUSED(R"({"nodes": [], "nodes": []})", "duplicate key 'nodes' at byte 14");
  CHECK_REFUSED(R"({"a": 1, "b": 2, "a": 3})", "duplicate key 'a'");
  // Python's hook reports the first member whose key was seen before.
  CHECK_REFUSED(R"({"b": 1, "a": 1, "b": 2, "a": 2})", "duplicate key 'b'");
  CHECK_REFUSED(R"({"a": 1, "b": 1, "b": 2, "a": 2})", "duplicate key 'b'");
  CHECK_REFUSED(R"({"a": 1, "b": 1, "c": 1, "a": 2, "b": 2, "c": 2})", "duplicate key 'a'");
  // An inner object closes first, so its duplicate is the one reported (as in Python).
  CHECK_REFUSED(R"({"a": 1, "a": {"c": 1, "c": 2}})", "duplicate key 'c'");
  CHECK_REFUSED(R"({"a": 1, "x": [{"c": 1, "c": 2}], "a": 2})", "duplicate key 'c'");
  // The same key decoded from different escapes.
  CHECK_REFUSED("{\"\\u00e9\": 1, \"\xC3\xA9\": 2}", "duplicate key '\xC3\xA9'");
  CHECK_REFUSED(R"({"\/": 1, "/": 2})", "duplicate key '/'");
  CHECK_REFUSED(R"({"it's": 1, "it's": 2})", "duplicate key \"it's\"");
  CHECK_REFUSED(R"({"a\nb": 1, "a\nb": 2})", "duplicate key 'a\\nb'");
  CHECK_REFUSED(R"({"": 1, "": 2})", "duplicate key ''");
  const std::string long_key = "\"" + std::string(100000, 'k') + "\"";
  CHECK_REFUSED("{" + long_key + ": 1, " + long_key + ": 2}",
                "duplicate key '" + std::string(199, 'k') + "... at byte 100008");
  // The same key in different objects is fine; so are prefixes and NUL-separated keys.
  CHECK_EQ(parse_ok(R"([{"a": 1}, {"a": 2}, {"x": {"a": 3}, "a": 4}])").root().size(), size_t{3});
  CHECK_EQ(parse_ok(R"({"a": 1, "ab": 2, "a\u0000": 3, "a\u0000b": 4, "A": 5})").root().size(),
           size_t{5});

  // Objects too big for the pairwise check: the sorted path must agree on which key is first.
  std::string text = "{";
  for (int i = 0; i < 100; ++i)
    text += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ", ";
  text += R"("k50": 0, "k7": 0, "k50": 1, "k99": 0})";
  CHECK_REFUSED(text, "duplicate key 'k50'");
  std::string many = "{";
  for (int i = 0; i < 20; ++i) many += "\"x\": " + std::to_string(i) + (i < 19 ? ", " : "}");
  CHECK_REFUSED(many, "duplicate key 'x' at byte 9");
}

TEST(million_member_object) {
  // A hostile header can hold a huge object: parsing and the duplicate check stay O(n log n).
  constexpr int kMembers = 1000000;
  std::string text = "{";
  for (int i = 0; i < kMembers; ++i) {
    if (i > 0) text += ',';
    text += "\"member" + std::to_string(i) + "\":" + std::to_string(i);
  }
  text += '}';
  const Document doc = parse_ok(text);
  CHECK_EQ(doc.root().size(), size_t{kMembers});
  CHECK_STR(doc.root().key(kMembers - 1), "member999999");
  CHECK_EQ(doc.root().item(kMembers - 1).as_int(), kMembers - 1);
  CHECK_EQ(doc.root().find("member123456").as_int(), 123456);

  text.back() = ',';
  text += "\"member500000\":0}";
  CHECK_REFUSED(text, "duplicate key 'member500000'");

  // A million-item array of small values, as in a hostile "[1,1,1,...]".
  std::string ones = "[";
  for (int i = 0; i < kMembers; ++i) ones += i > 0 ? ",1" : "1";
  ones += ']';
  const Document array = parse_ok(ones);
  CHECK_EQ(array.root().size(), size_t{kMembers});
  CHECK_EQ(array.root().item(kMembers - 1).as_int(), 1);
}

TEST(type_names) {
  const Document doc = parse_ok(R"([null, true, 1, 99999999999999999999, 1.0, NaN, "s", [], {}])");
  const char* names[] = {"null", "bool", "int", "int", "float", "float", "str", "list", "object"};
  for (size_t i = 0; i < 9; ++i) CHECK_STR(type_name(doc.root().item(i)), names[i]);
}

TEST(repr_like_python) {
  const auto repr_of = [](std::string_view text) { return repr(parse_ok(text).root()); };
  CHECK_STR(repr_of("null"), "None");
  CHECK_STR(repr_of("true"), "True");
  CHECK_STR(repr_of("false"), "False");
  CHECK_STR(repr_of("-12"), "-12");
  CHECK_STR(repr_of("-0"), "0");
  CHECK_STR(repr_of("-1180591620717411303424"), "-1180591620717411303424");
  // Floats: shortest round-trip digits, positional for exponents -4..15.
  CHECK_STR(repr_of("1.0"), "1.0");
  CHECK_STR(repr_of("-1.5"), "-1.5");
  CHECK_STR(repr_of("0.1"), "0.1");
  CHECK_STR(repr_of("0e0"), "0.0");
  CHECK_STR(repr_of("-0.0"), "-0.0");
  CHECK_STR(repr_of("1e16"), "1e+16");
  CHECK_STR(repr_of("1e15"), "1000000000000000.0");
  CHECK_STR(repr_of("123456789012345678"), "123456789012345678");
  CHECK_STR(repr_of("123456789012345678.0"), "1.2345678901234568e+17");
  CHECK_STR(repr_of("1234567890123456.7"), "1234567890123456.8");
  CHECK_STR(repr_of("0.0001"), "0.0001");
  CHECK_STR(repr_of("0.00012345"), "0.00012345");
  CHECK_STR(repr_of("1e-05"), "1e-05");
  CHECK_STR(repr_of("1.5e-7"), "1.5e-07");
  CHECK_STR(repr_of("1e100"), "1e+100");
  CHECK_STR(repr_of("-2.5e-300"), "-2.5e-300");
  CHECK_STR(repr_of("5e-324"), "5e-324");
  CHECK_STR(repr_of("1.7976931348623157e308"), "1.7976931348623157e+308");
  CHECK_STR(repr_of("100.0"), "100.0");
  CHECK_STR(repr_of("1e400"), "inf");
  CHECK_STR(repr_of("-Infinity"), "-inf");
  CHECK_STR(repr_of("NaN"), "nan");
  // Strings: single quotes unless the text has ' and no ".
  CHECK_STR(repr_of(R"("text")"), "'text'");
  CHECK_STR(repr_of(R"("it's")"), "\"it's\"");
  CHECK_STR(repr_of(R"("it's \"x\"")"), "'it\\'s \"x\"'");
  CHECK_STR(repr_of(R"("a\\b\n\t\r\u0000\u001f\u007f")"), "'a\\\\b\\n\\t\\r\\x00\\x1f\\x7f'");
  CHECK_STR(repr_of(R"("\u00e9\ud83d\ude00\u4e2d")"), "'\xC3\xA9\xF0\x9F\x98\x80\xE4\xB8\xAD'");
  CHECK_STR(repr_of(R"("\u0085\u00a0\u00ad\u2028\ufeff")"), "'\\x85\\xa0\\xad\\u2028\\ufeff'");
  // Containers.
  CHECK_STR(repr_of("[]"), "[]");
  CHECK_STR(repr_of("{}"), "{}");
  CHECK_STR(repr_of("[1, 2]"), "[1, 2]");
  CHECK_STR(repr_of(R"({"a": 1, "b": [true, null, {"c": "d"}]})"),
            "{'a': 1, 'b': [True, None, {'c': 'd'}]}");
  // Long values are cut after about 200 characters, on a UTF-8 boundary.
  std::string long_list = "[";
  for (int i = 0; i < 1000; ++i) long_list += i > 0 ? ", 12345" : "12345";
  long_list += "]";
  const std::string cut = repr_of(long_list);
  CHECK_EQ(cut.size(), size_t{203});
  CHECK_STR(cut.substr(0, 13), "[12345, 12345");
  CHECK_STR(cut.substr(200), "...");
  const std::string long_text = repr_of("\"" + std::string(1000, 'x') + "\"");
  CHECK_STR(long_text, "'" + std::string(199, 'x') + "...");
  std::string accents = "\"";
  for (int i = 0; i < 300; ++i) accents += "\xC3\xA9";
  const std::string cut_accents = repr_of(accents + "\"");
  CHECK_STR(
      cut_accents, "'" + [] {
        std::string s;
        for (int i = 0; i < 99; ++i) s += "\xC3\xA9";
        return s;
      }() + "...");
  const Document deep =
      Document::parse(std::string(100000, '[') + std::string(100000, ']'), 100000);
  CHECK_STR(repr(deep.root()), std::string(200, '[') + "...");
  CHECK_STR(repr_of(std::string(4300, '9')).substr(0, 5), "99999");
  CHECK(repr_of(std::string(4300, '9')).size() <= 203);
}

TEST(misuse_throws_logic_error) {
  const Document doc = parse_ok(R"({"s": "x", "a": [1], "big": 99999999999999999999})");
  const Ref root = doc.root();
  const auto throws = [](auto fn) {
    try {
      fn();
    } catch (const std::logic_error&) {
      return true;
    }
    return false;
  };
  CHECK(throws([&] { root.find("s").as_int(); }));
  CHECK(throws([&] { root.find("s").as_bool(); }));
  CHECK(throws([&] { root.find("s").as_float(); }));
  CHECK(throws([&] { root.find("a").as_string(); }));
  CHECK(throws([&] { root.find("big").as_int(); }));
  CHECK(throws([&] { root.find("a").item(1); }));
  CHECK(throws([&] { root.item(3); }));
  CHECK(throws([&] { root.key(3); }));
  CHECK(throws([&] { root.find("a").key(0); }));
  CHECK(throws([&] { root.find("a").find("x"); }));
  CHECK(throws([&] { root.find("s").item(0); }));
  CHECK(throws([&] { root.find("missing").type(); }));
  CHECK(throws([&] { root.find("missing").size(); }));
  CHECK(!throws([&] { root.find("a").item(0).as_int(); }));
  const Document empty;  // holds nothing until a parsed Document is assigned to it
  CHECK(throws([&] { empty.root().type(); }));
  CHECK(throws([&] { type_name(empty.root()); }));
}

TEST(random_bytes_never_crash) {
  // Mutations of a valid header: each parse either succeeds or throws ParseError.
  const std::string seed =
      R"({"inputs": [{"name": "x", "shape": [1, 3], "dtype": "float32"}], "metadata": )"
      R"({"s": "\u00e9\ud83d\ude00\n", "f": [1.5e-7, -0.0, NaN, 12345678901234567890]}})";
  const std::string alphabet = "[]{}:,\"\\-+.eE0123456789 \nuntrfalsNIy\x80\xC3\xED\xF0\xFF";
  auto& rng = test::rng();
  int accepted = 0, refused = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0:
          text[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1 + rng() % 3);
          break;
        case 2:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          text.resize(at);
      }
    }
    try {
      const Document doc = Document::parse(text);
      repr(doc.root());
      ++accepted;
    } catch (const ParseError&) {
      ++refused;
    }
  }
  CHECK_EQ(accepted + refused, 20000);
  CHECK(accepted > 0);
  CHECK(refused > 0);
}

}  // namespace
}  // namespace xnorinfer::json

TEST_MAIN()
