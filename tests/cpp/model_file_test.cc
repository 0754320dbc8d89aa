// The model-file reader (src/xnorinfer/model): a valid file's graph, constants and metadata come
// back as written; every kind of damage and every hostile header is refused with
// InvalidModelFile naming what is wrong. Python's tests (tests/test_model_file.py,
// tests/security/test_hostile_models.py) check the same reader through the bindings.
#include "xnorinfer/model/model_file.h"

#include <string>
#include <vector>

#include "check.h"
#include "model_bytes.h"
#include "xnorinfer/base/errors.h"

namespace xnorinfer {
namespace {

using test::replace;
using test::SmallNetwork;

// Reading `bytes` throws InvalidModelFile with `words` in its message.
void check_refused(const std::vector<uint8_t>& bytes, const std::string& words, int line) {
  std::string message = "(accepted)";
  try {
    read_model_file(bytes.data(), bytes.size());
  } catch (const InvalidModelFile& error) {
    message = error.what();
  }
  if (message.find(words) == std::string::npos) {
    test::fail(__FILE__, line, "expected '" + words + "' in: " + message);
  }
  ++test::Registry::get().checks;
}
#define CHECK_REFUSED(bytes, words) check_refused((bytes), (words), __LINE__)

// The network with its header edited (and the file resealed).
std::vector<uint8_t> edited(const std::string& from, const std::string& to) {
  const SmallNetwork net;
  return test::seal(replace(net.header(), from, to), net.blobs);
}

TEST(a_valid_file_reads_back_as_written) {
  const SmallNetwork net;
  const std::vector<uint8_t> bytes = net.bytes();
  const ModelFile model = read_model_file(bytes.data(), bytes.size());
  CHECK_EQ(model.inputs.size(), size_t{1});
  CHECK(model.inputs[0].name == "x" && model.inputs[0].shape == Shape({-1, 5, 5, 8}));
  CHECK(model.outputs[0].name == "probs" && model.outputs[0].dtype == "float32");
  CHECK(model.values[0].name == "xb" && model.values[0].dtype == "bits");
  CHECK_EQ(model.nodes.size(), size_t{5});
  const NodeDef& conv = model.nodes[1];
  CHECK(conv.op == "BinaryConv2d" && conv.inputs.size() == 5 && conv.outputs[0] == "cb");
  CHECK(conv.attrs.get_ints("pads") == std::vector<int64_t>({1, 1, 1, 1}));
  CHECK(conv.attrs.get_string("output") == "bits");
  CHECK_EQ(conv.attrs.get_int("in_channels"), int64_t{8});
  CHECK_EQ(model.constants.size(), net.blobs.size());
  for (size_t i = 0; i < net.blobs.size(); ++i) {
    const ConstantSpec& c = model.constants[i];
    CHECK(c.name == net.blobs[i].name && c.shape == net.blobs[i].shape);
    CHECK_EQ(c.offset % 64, size_t{0});
    CHECK_EQ(c.nbytes, net.blobs[i].bytes.size());
    CHECK(
        std::equal(net.blobs[i].bytes.begin(), net.blobs[i].bytes.end(), bytes.begin() + c.offset));
  }
  CHECK(model.constants[0].storage == ConstantSpec::Storage::kUint64);
  CHECK(model.constants[1].storage == ConstantSpec::Storage::kFloat32);
  const json::Ref metadata = model.metadata();
  CHECK(metadata.find("producer").as_string() == "model_bytes.h");
  CHECK(json::repr(metadata.find("sizes")) == "[1, 2.5, None, True]");
  CHECK(json::repr(metadata.find("big")) == "123456789012345678901234567890");
}

TEST(framing_damage_is_named) {
  const std::vector<uint8_t> good = SmallNetwork().bytes();
  auto with = [&](size_t at, uint8_t value) {
    std::vector<uint8_t> b = good;
    b[at] = value;
    return b;
  };
  CHECK_REFUSED(std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 2),
                "truncated: the file is");
  CHECK_REFUSED(std::vector<uint8_t>(), "truncated: the file is 0 bytes, expected at least 64");
  CHECK_REFUSED(with(0, 'Y'), "not an xnorinfer model file: it starts with b'YNORINF\\x00'");
  CHECK_REFUSED(with(8, 9),
                "written by a newer xnorinfer (format version 9, this build reads up "
                "to 1): upgrade xnorinfer");
  CHECK_REFUSED(with(8, 0), "format version 0 does not exist");
  CHECK_REFUSED(with(good.size() / 2, good[good.size() / 2] ^ 0x10),
                "corrupted: the SHA-256 of the file does not match");
  CHECK_REFUSED(with(good.size() - 1, 'x'), "corrupted: the end marker is damaged");
  const SmallNetwork flagged;
  CHECK_REFUSED(test::seal(flagged.header(), flagged.blobs, 1, 1),
                "unsupported flags 0x00000001: format version 1 defines none");
  // A blob changed behind a valid checksum.
  SmallNetwork net;
  const std::string table = test::constant_table(net.blobs);  // the CRC-32s before the change
  net.blobs[3].bytes[0] ^= 1;
  const std::vector<uint8_t> resealed =
      test::seal("{" + net.graph + ",\"constants\":" + table + "}", net.blobs);
  CHECK_REFUSED(resealed, "corrupted: the CRC-32 of constant 'conv.t' does not match the header");
}

TEST(a_cut_file_says_how_long_it_should_be) {
  const std::vector<uint8_t> good = SmallNetwork().bytes();
  const std::vector<uint8_t> cut(good.begin(), good.end() - 100);
  CHECK_REFUSED(cut, "truncated: the file is " + std::to_string(cut.size()) + " bytes, expected " +
                         std::to_string(good.size()) + " (from its header)");
}

TEST(unreadable_headers_are_refused) {
  const std::vector<test::Blob> none;
  CHECK_REFUSED(test::seal("{not json", none), "invalid header: not valid UTF-8 JSON");
  CHECK_REFUSED(test::seal("\xff\xfe{}", none), "not valid UTF-8 JSON");
  CHECK_REFUSED(test::seal(std::string(100000, '[') + std::string(100000, ']'), none),
                "not valid UTF-8 JSON");
  CHECK_REFUSED(test::seal(std::string(10000, '1'), none), "not valid UTF-8 JSON");
  CHECK_REFUSED(test::seal("{\"nodes\": [], \"nodes\": []}", none), "duplicate key 'nodes'");
  CHECK_REFUSED(test::seal("[]", none), "invalid header: expected a JSON object, got list");
}

TEST(hostile_headers_are_refused) {
  const struct {
    const char* from;
    const char* to;
    const char* words;
  } cases[] = {
      {"\"shape\":[16,3,3,1]", "\"shape\":[1000000,1000000]",
       "constant 'conv.w' has shape [1000000, 1000000], which needs more bytes than the whole"},
      {"\"shape\":[16,3,3,1]", "\"shape\":[-1,3,3,1]",
       "constant 'conv.w' shape [-1, 3, 3, 1] has a negative dimension -1 (a constant has no "
       "dynamic dimension)"},
      {"\"shape\":[16,3,3,1]", "\"shape\":[16.0,3,3,1]", "shape [16.0, 3, 3, 1] holds float"},
      {"\"shape\":[16,3,3,1]", "\"shape\":[1000000000000000000000000000000,0]",
       "constant 'conv.w' shape has a dimension 1000000000000000000000000000000"},
      {"\"nbytes\":1152", "\"nbytes\":4",
       "constant 'conv.w' has shape [16, 3, 3, 1] of uint64 (1152 bytes) but nbytes 4"},
      {"\"nbytes\":1152", "\"nbytes\":true", "field 'nbytes' must be an int, got bool"},
      {"\"offset\":0", "\"offset\":8", "constant 'conv.w' offset 8 is not a multiple of 64"},
      {"\"offset\":0", "\"offset\":1099511627776",
       "at offset 1099511627776 with 1152 bytes is out"},
      {"\"offset\":0", "\"offset\":-64", "out of range"},
      {"\"offset\":1152", "\"offset\":0",
       "constants 'conv.s' and 'conv.w' overlap (bytes 0..64 of the data section)"},
      {"\"dtype\":\"uint64\"", "\"dtype\":\"float16\"",
       "constant 'conv.w' has unknown dtype 'float16' (expected one of float32, uint64)"},
      {"\"name\":\"conv.s\",\"dtype\"", "\"name\":\"conv.w\",\"dtype\"",
       "constant 'conv.w' is listed twice"},
      {"\"op\":\"Softmax\"", "\"op\":\"Exec\"",
       "invalid graph: node 'softmax' has unknown op 'Exec'"},
      {"\"inputs\":[\"cb\"]", "\"inputs\":[\"nowhere\"]",
       "node 'pool' input 'nowhere' is dangling"},
      {"\"inputs\":[\"x\"]", "\"inputs\":[\"probs\"]",
       "node 'pack' reads 'probs', which node 'softmax' produces later: nodes must be in "
       "topological order"},
      {"\"inputs\":[\"logits\"]", "\"inputs\":[\"probs\"]",
       "node 'softmax' reads its own output 'probs': the graph may not have a cycle"},
      {"\"outputs\":[\"pb\"]", "\"outputs\":[\"cb\"]",
       "value 'cb' is produced twice (the output of node 'conv' and the output of node 'pool')"},
      {"\"name\":\"pool\"", "\"name\":\"conv\"", "node name 'conv' is used twice"},
      {"\"group\":1", "\"group\":18446744073709551616",
       "invalid node 'conv' attr 'group': 18446744073709551616 does not fit in a 64-bit integer"},
      {"\"group\":1", "\"group\":{\"h\":1}",
       "attr 'group': must be int, float, str, list of int or list of float, got object"},
      {"\"group\":1", "\"group\":null",
       "attr 'group': must be int, float, str, list of int or "
       "list of float, got null"},
      {"\"pads\":[1,1,1,1]", "\"pads\":[1,1.5]",
       "attr 'pads': a list must hold only ints or only floats, got float, int"},
      {"\"strides\":[2,2],", "\"strides\":[2,2],\"auto_pad\":\"SAME_UPPER\",",
       "node 'pool' (MaxPool) has unknown attribute(s) 'auto_pad' (it takes kernel_shape, "
       "strides, dilations, pads, ceil_mode, source, kind)"},
      {"\"shape\":[-1,5,5,8],\"dtype\":\"float32\"", "\"shape\":[-1,0,5,8],\"dtype\":\"float32\"",
       "graph input 'x' has shape [-1, 0, 5, 8]: extents must be positive"},
      {"\"shape\":[-1,5,5,8],\"dtype\":\"float32\"", "\"shape\":[1,-2,5,8],\"dtype\":\"float32\"",
       "only -1, a dynamic dimension, may be negative"},
      {"\"shape\":[-1,5,5,8],\"dtype\":\"float32\"", "\"shape\":[-1,5,5,8],\"dtype\":\"bits\"",
       "graph input 'x' has dtype 'bits', graph inputs must be float32"},
      {"{\"name\":\"probs\",", "{\"name\":\"zz\",", "graph output 'zz' is not produced"},
      {"\"dtype\":\"bits\"", "\"dtype\":\"int8\"", "value #0 'xb' has unknown dtype 'int8'"},
      {"\"values\":[", "\"values\":[{\"name\":\"q\",\"shape\":[],\"dtype\":\"float32\"},",
       "values describes 'q', which no node produces"},
      {"\"nodes\":[", "\"nodes\":[[1],", "node #0 must be an object, got list"},
      {"\"inputs\":[\"cb\"]", "\"inputs\":[3]", "node 'pool' inputs must be strings, got int"},
      {"\"inputs\":[{", "\"code\":\"import os\",\"inputs\":[{", "unknown field(s) 'code'"},
      {"\"inputs\":[{", "\"nodes\":{},\"inputs\":[{", "duplicate key 'nodes'"},
  };
  for (const auto& c : cases) CHECK_REFUSED(edited(c.from, c.to), c.words);
}

TEST(a_missing_or_mistyped_field_is_named) {
  const SmallNetwork net;
  std::string header = net.header();
  const size_t nodes = header.find("\"nodes\":");
  const size_t metadata = header.find("\"metadata\":");
  std::string without_nodes = header.substr(0, nodes) + header.substr(metadata);
  CHECK_REFUSED(test::seal(without_nodes, net.blobs), "header is missing the field 'nodes'");
  std::string nodes_object = header.substr(0, nodes) + "\"nodes\":{}," + header.substr(metadata);
  CHECK_REFUSED(test::seal(nodes_object, net.blobs),
                "header field 'nodes' must be a list, got object");
  SmallNetwork listed;  // the metadata is the last member of the graph part
  listed.graph = replace(listed.graph, "\"metadata\":{", "\"metadata\":[{") + "]";
  CHECK_REFUSED(listed.bytes(), "header field 'metadata' must be an object, got list");
}

TEST(too_many_nodes_are_refused) {
  const SmallNetwork net;
  std::string relus;
  for (int64_t i = 0; i <= kMaxNodes; ++i) {
    relus += ",{\"name\":\"r" + std::to_string(i) + "\",\"op\":\"Relu\",\"inputs\":[\"probs\"]," +
             "\"outputs\":[\"r" + std::to_string(i) + "\"],\"attrs\":{}}";
  }
  CHECK_REFUSED(test::seal(replace(net.header(), "\"attrs\":{\"axis\":1}}",
                                   "\"attrs\":{\"axis\":1}}" + relus),
                           net.blobs),
                std::to_string(kMaxNodes + 6) + " nodes, more than the engine's limit of " +
                    std::to_string(kMaxNodes));
}

TEST(extra_bytes_before_the_trailer_are_refused) {
  SmallNetwork net;
  std::vector<uint8_t> bytes = net.bytes();
  bytes.erase(bytes.end() - 40, bytes.end());
  bytes.insert(bytes.end(), 64, 0);
  const auto digest = sha256(bytes.data(), bytes.size());
  bytes.insert(bytes.end(), digest.begin(), digest.end());
  for (char c : std::string("XNOREND")) bytes.push_back(static_cast<uint8_t>(c));
  bytes.push_back(0);
  CHECK_REFUSED(bytes, "bytes but the constants end at byte");
}

}  // namespace
}  // namespace xnorinfer

TEST_MAIN()
