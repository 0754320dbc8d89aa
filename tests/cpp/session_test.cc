// The engine from C++ alone: a graph built with the Graph API and run by a Session on every ISA
// path this CPU has and at 1 and 3 threads, against the convolution computed here from its
// definition; and nodes the op schema refuses when they are added.
#include "xnorinfer/session.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "xnorinfer/base/bits.h"
#include "xnorinfer/base/errors.h"
#include "xnorinfer/cpu/isa.h"
#include "xnorinfer/graph/batch_split.h"

namespace xnorinfer {
namespace {

using test::rng;

constexpr int64_t kH = 9, kW = 7, kC = 70, kO = 33;

// Session options for every ISA path this CPU runs, at 1 and 3 threads.
std::vector<SessionOptions> every_path() {
  std::vector<SessionOptions> paths;
  for (const Isa isa : compiled_isas()) {
    if (static_cast<int>(isa) > static_cast<int>(best_available_isa())) continue;
    for (int threads : {1, 3}) {
      SessionOptions options;
      options.num_threads = threads;
      options.isa = to_string(isa);
      paths.push_back(options);
    }
  }
  return paths;
}

std::string path_name(const SessionOptions& options) {
  return options.isa + " x" + std::to_string(options.num_threads);
}

// x -> BinarizePack -> BinaryConv2d (3x3, pads 1, float output with scale and bias, relu).
std::shared_ptr<Graph> binary_conv_graph(const std::vector<Word>& weights,
                                         const std::vector<float>& scale,
                                         const std::vector<float>& bias) {
  auto g = std::make_shared<Graph>();
  g->add_input("x", {-1, kH, kW, kC}, DType::kFloat32);
  g->add_constant("w", {DType::kBits, {kO, 3, 3, kC}}, weights.data(),
                  weights.size() * sizeof(Word));
  g->add_constant("scale", {DType::kFloat32, {kO}}, scale.data(), kO * sizeof(float));
  g->add_constant("bias", {DType::kFloat32, {kO}}, bias.data(), kO * sizeof(float));
  g->add_node({"pack", "BinarizePack", {"x"}, {"xb"}, AttrMap("pack", {})});
  g->add_node({"conv",
               "BinaryConv2d",
               {"xb", "w", "scale", "bias"},
               {"y"},
               AttrMap("conv", {{"kernel_shape", std::vector<int64_t>{3, 3}},
                                {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                                {"in_channels", kC},
                                {"output", std::string("float")},
                                {"activation", std::string("relu")}})});
  g->add_output("y");
  return g;
}

TEST(binary_conv_matches_its_definition_on_every_path) {
  const int64_t words = words_for_bits(kC), n = 2;
  std::vector<Word> weights(kO * 9 * words);
  for (Word& w : weights) w = rng()();
  for (int64_t r = 0; r < kO * 9; ++r) weights[r * words + words - 1] &= (Word{1} << (kC % 64)) - 1;
  std::vector<float> scale(kO), bias(kO), x(n * kH * kW * kC);
  std::normal_distribution<float> normal;
  for (float& v : scale) v = normal(rng());
  for (float& v : bias) v = normal(rng());
  for (float& v : x) v = normal(rng());
  // The definition: ±1 activations (x < 0 -> -1) and weights (bit 1 -> -1), zero padding.
  std::vector<float> want(n * kH * kW * kO);
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t y = 0; y < kH; ++y) {
      for (int64_t xx = 0; xx < kW; ++xx) {
        for (int64_t o = 0; o < kO; ++o) {
          int32_t dot = 0;
          for (int64_t ky = 0; ky < 3; ++ky) {
            for (int64_t kx = 0; kx < 3; ++kx) {
              const int64_t iy = y + ky - 1, ix = xx + kx - 1;
              if (iy < 0 || iy >= kH || ix < 0 || ix >= kW) continue;
              for (int64_t c = 0; c < kC; ++c) {
                const int a = x[((b * kH + iy) * kW + ix) * kC + c] < 0 ? -1 : 1;
                const Word word = weights[((o * 3 + ky) * 3 + kx) * words + c / 64];
                dot += a * (((word >> (c % 64)) & 1) ? -1 : 1);
              }
            }
          }
          const float v = static_cast<float>(dot) * scale[o] + bias[o];
          want[((b * kH + y) * kW + xx) * kO + o] = v < 0 ? 0.0f : v;
        }
      }
    }
  }
  const auto graph = binary_conv_graph(weights, scale, bias);
  for (const SessionOptions& options : every_path()) {
    Session session(graph, options);
    const std::vector<Shape> shapes = {{n, kH, kW, kC}};
    const std::vector<Shape> expected = {{n, kH, kW, kO}};
    CHECK(session.output_shapes(shapes) == expected);
    // The conv writes y where the caller wants it (Session::bind_outputs): here off a cache
    // line boundary, between two floats it must not touch.
    std::vector<float> buffer(want.size() + 2, -7.0f);
    float* const got = buffer.data() + 1;
    session.run(shapes, {x.data()}, {got});
    const std::string where = path_name(options);
    CHECK(buffer.front() == -7.0f && buffer.back() == -7.0f);
    for (size_t i = 0; i < want.size(); ++i) {
      uint32_t a, b;
      std::memcpy(&a, &got[i], 4);
      std::memcpy(&b, &want[i], 4);
      CHECK_EQ_CTX(a, b, where);
    }
  }
}

// An NCHW image -> a stem writing NCHW (conv, relu, fused pool) -> s -> Transpose to NHWC -> t,
// both graph outputs, written in unaligned caller buffers between floats they must not touch;
// t is s transposed, bit for bit.
TEST(a_stem_and_a_transpose_write_exactly_their_callers_buffers) {
  constexpr int64_t kImage = 12, kOut = 6, kStemChannels = 20;
  std::vector<float> weights(kStemChannels * 5 * 5 * 3), bias(kStemChannels),
      x(3 * kImage * kImage);
  std::normal_distribution<float> normal;
  for (float& v : weights) v = normal(rng());
  for (float& v : bias) v = normal(rng());
  for (float& v : x) v = normal(rng());
  auto g = std::make_shared<Graph>();
  g->add_input("x", {-1, 3, kImage, kImage}, DType::kFloat32);
  g->add_constant("w", {DType::kFloat32, {kStemChannels, 5, 5, 3}}, weights.data(),
                  weights.size() * sizeof(float));
  g->add_constant("b", {DType::kFloat32, {kStemChannels}}, bias.data(),
                  bias.size() * sizeof(float));
  g->add_node({"stem",
               "Conv2d",
               {"x", "w", "b"},
               {"s"},
               AttrMap("stem", {{"kernel_shape", std::vector<int64_t>{5, 5}},
                                {"strides", std::vector<int64_t>{2, 2}},
                                {"pads", std::vector<int64_t>{2, 2, 2, 2}},
                                {"activation", std::string("relu")},
                                {"input_layout", std::string("nchw")},
                                {"output_layout", std::string("nchw")},
                                {"pool_kernel_shape", std::vector<int64_t>{3, 3}},
                                {"pool_pads", std::vector<int64_t>{1, 1, 1, 1}}})});
  g->add_node({"to_nhwc",
               "Transpose",
               {"s"},
               {"t"},
               AttrMap("to_nhwc", {{"perm", std::vector<int64_t>{0, 2, 3, 1}}})});
  g->add_output("s");
  g->add_output("t");
  const int64_t size = kStemChannels * kOut * kOut;
  for (const SessionOptions& options : every_path()) {
    Session session(g, options);
    std::vector<float> s(size + 2, -7.0f), t(size + 2, -7.0f);
    session.run({{1, 3, kImage, kImage}}, {x.data()}, {s.data() + 1, t.data() + 1});
    const std::string where = path_name(options);
    CHECK_EQ_CTX(s.front() == -7.0f && s.back() == -7.0f, true, where);
    CHECK_EQ_CTX(t.front() == -7.0f && t.back() == -7.0f, true, where);
    int64_t nonzero = 0;
    for (int64_t c = 0; c < kStemChannels; ++c) {
      for (int64_t p = 0; p < kOut * kOut; ++p) {
        uint32_t a, b;
        std::memcpy(&a, &s[1 + c * kOut * kOut + p], 4);
        std::memcpy(&b, &t[1 + p * kStemChannels + c], 4);
        CHECK_EQ_CTX(a, b, where);
        nonzero += s[1 + c * kOut * kOut + p] != 0.0f;
      }
    }
    CHECK_EQ_CTX(nonzero > size / 4, true, where);
  }
}

// A value named twice as a graph output is written to both buffers; buffers that overlap are
// refused, since nodes write outputs in place.
TEST(an_output_named_twice_fills_both_buffers_and_overlapping_ones_are_refused) {
  std::vector<Word> weights(kO * 9 * words_for_bits(kC), 0x5a5a5a5a5a5a5a5aull);
  const std::vector<float> scale(kO, 0.5f), bias(kO, -1.0f);
  const auto graph = binary_conv_graph(weights, scale, bias);
  graph->add_output("y");
  Session session(graph, SessionOptions{});
  const std::vector<Shape> shapes = {{1, kH, kW, kC}};
  std::vector<float> x(kH * kW * kC);
  for (float& v : x) v = std::normal_distribution<float>()(rng());
  std::vector<float> first(kH * kW * kO, -7.0f), second(first.size(), -7.0f);
  session.run(shapes, {x.data()}, {first.data(), second.data()});
  CHECK(first == second);
  CHECK(first != std::vector<float>(first.size(), -7.0f));
  std::vector<float> shared(first.size() + 1);
  try {
    session.run(shapes, {x.data()}, {shared.data(), shared.data() + 1});
    CHECK(false);
  } catch (const InvalidArgument& e) {
    CHECK(std::string(e.what()).find("output buffer 1 overlaps output buffer 0") !=
          std::string::npos);
  }
}

// add_node's message for `node`, or "" when it was accepted.
std::string refusal(NodeDef node) {
  Graph g;
  g.add_input("x", {1, 4, 4, 8}, DType::kFloat32);
  try {
    g.add_node(std::move(node));
  } catch (const InvalidModel& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(the_op_schema_refuses_malformed_nodes) {
  using Ints = std::vector<int64_t>;
  CHECK(refusal({"r", "Relu", {"x"}, {"y"}, AttrMap("r", {})}).empty());
  CHECK(contains(refusal({"r", "Relu", {"x"}, {"y"}, AttrMap("r", {{"alpha", 1.0}})}),
                 "node 'r' (Relu): unknown attribute 'alpha'"));
  CHECK(contains(refusal({"p", "MaxPool", {"x"}, {"y"}, AttrMap("p", {})}),
                 "missing attribute 'kernel_shape'"));
  CHECK(contains(
      refusal({"p", "MaxPool", {"x"}, {"y"}, AttrMap("p", {{"kernel_shape", Ints{2, 2, 2}}})}),
      "attribute 'kernel_shape' must have 2 values, got 3"));
  CHECK(contains(
      refusal({"p", "MaxPool", {"x"}, {"y"}, AttrMap("p", {{"kernel_shape", Ints{2, 0}}})}),
      "attribute 'kernel_shape' value 0 is outside [1, 4096]"));
  CHECK(contains(
      refusal({"p", "MaxPool", {"x"}, {"y"}, AttrMap("p", {{"kernel_shape", std::string("2x2")}})}),
      "attribute 'kernel_shape' must be a list of ints"));
  CHECK(
      contains(refusal({"c", "Conv2d", {"x"}, {"y"}, AttrMap("c", {{"kernel_shape", Ints{1, 1}}})}),
               "input 'weight' (input 1 of [x, weight, bias?]) is required"));
  CHECK(contains(refusal({"r", "Relu", {"x", "x"}, {"y"}, AttrMap("r", {})}),
                 "takes at most 1 inputs [x], got 2"));
  CHECK(contains(refusal({"r", "Relu", {"x"}, {""}, AttrMap("r", {})}),
                 "output 'y' (output 0 of [y]) is required"));
  CHECK(contains(refusal({"z", "Conv3d", {"x"}, {"y"}, AttrMap("z", {})}), "unknown op 'Conv3d'"));
}

// Node seconds worked by hand: whole-batch runs are slower on the first two nodes (large
// activations), faster on the last two (weights read once per batch).
TEST(the_fastest_split_runs_each_node_the_way_it_ran_faster) {
  const std::vector<double> whole = {4, 3, 1, 1}, per_sample = {2, 2, 2, 3};
  CHECK_EQ(fastest_split(whole, per_sample, 4), 2);            // 2 + 2 + 1 + 1 = 6 < 9 and 9
  CHECK_EQ(fastest_split({1, 1, 1, 1}, {2, 2, 2, 2}, 4), -1);  // whole is fastest
  CHECK_EQ(fastest_split({2, 2, 2, 2}, {1, 1, 1, 1}, 4), -1);  // per sample is fastest
  CHECK_EQ(fastest_split({2, 1}, {1, 1}, 2), -1);  // only as fast as per sample: no split
  CHECK_EQ(fastest_split({3, 1}, {1, 2}, 2), 1);
  CHECK_EQ(fastest_split(whole, {2, 2, 2}, 4), -1);  // missing a node's time
  CHECK_EQ(fastest_split({}, {}, 0), -1);
}

}  // namespace
}  // namespace xnorinfer

TEST_MAIN()
