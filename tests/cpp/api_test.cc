// The public C++ API (include/xnorinfer/xnorinfer.h), linked as an embedder links it (the
// shared library): a model file loaded from memory and from a path, its inputs and outputs,
// runs on every ISA path that agree bit for bit, and typed errors for bad files and inputs.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <system_error>

#include "check.h"
#include "model_bytes.h"
#include "xnorinfer/xnorinfer.h"

namespace xnorinfer {
namespace {

using test::SmallNetwork;

const std::vector<std::string> kIsas = {"scalar", "avx2", "avx512", "neon"};

std::vector<float> random_input(int64_t batch) {
  std::vector<float> x(batch * 5 * 5 * 8);
  std::normal_distribution<float> normal;
  for (float& v : x) v = normal(test::rng());
  return x;
}

template <typename E, typename F>
std::string error_of(F&& call) {
  try {
    call();
  } catch (const E& error) {
    return error.what();
  }
  return "(no exception)";
}

TEST(a_model_loads_and_describes_its_inputs_and_outputs) {
  const std::vector<uint8_t> bytes = SmallNetwork().bytes();
  InferenceSession session = InferenceSession::from_memory(bytes.data(), bytes.size(), {1, ""});
  CHECK_EQ(session.inputs().size(), size_t{1});
  CHECK(session.inputs()[0].name == "x");
  CHECK(session.inputs()[0].shape == std::vector<int64_t>({-1, 5, 5, 8}));
  CHECK(session.outputs()[0].name == "probs");
  CHECK(session.outputs()[0].shape == std::vector<int64_t>({-1, 10}));
  CHECK_EQ(session.num_threads(), 1);
  CHECK(session.output_shapes({{3, 5, 5, 8}}) == std::vector<std::vector<int64_t>>({{3, 10}}));
}

TEST(runs_agree_on_every_path_and_with_the_file_on_disk) {
  const std::vector<uint8_t> bytes = SmallNetwork().bytes();
  const char* path = "api_test_model.xnor";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  const std::vector<float> x = random_input(4);
  InferenceSession reference = InferenceSession::from_file(path, {1, "scalar"});
  const std::vector<Output> want = reference.run({{x.data(), {4, 5, 5, 8}}});
  std::remove(path);
  CHECK_EQ(want.size(), size_t{1});
  CHECK(want[0].name == "probs" && want[0].shape == std::vector<int64_t>({4, 10}));
  for (int64_t b = 0; b < 4; ++b) {
    double sum = 0;
    for (int64_t k = 0; k < 10; ++k) sum += want[0].data[b * 10 + k];
    CHECK(std::fabs(sum - 1.0) < 1e-5);
  }
  for (const std::string& isa : kIsas) {
    for (int threads : {1, 2}) {
      std::string skipped = error_of<UnsupportedIsa>([&] {
        InferenceSession session =
            InferenceSession::from_memory(bytes.data(), bytes.size(), {threads, isa});
        const std::vector<Output> got = session.run({{x.data(), {4, 5, 5, 8}}});
        CHECK_STR(session.isa(), isa);
        CHECK(got[0].data == want[0].data);
        // Into caller buffers, one sample at a time: the same rows.
        std::vector<float> row(10);
        for (int64_t b = 0; b < 4; ++b) {
          session.run({{x.data() + b * 200, {1, 5, 5, 8}}}, {row.data()});
          CHECK(std::equal(row.begin(), row.end(), want[0].data.begin() + b * 10));
        }
      });
      if (skipped != "(no exception)") std::printf("skip %s: %s\n", isa.c_str(), skipped.c_str());
    }
  }
}

TEST(bad_files_are_invalid_model_files) {
  std::vector<uint8_t> bytes = SmallNetwork().bytes();
  bytes.resize(bytes.size() / 2);
  CHECK(error_of<InvalidModelFile>([&] {
          InferenceSession::from_memory(bytes.data(), bytes.size());
        }).rfind("cannot load model bytes: truncated: the file is", 0) == 0);
  CHECK(error_of<std::system_error>([&] {
          InferenceSession::from_file("/nonexistent/model.xnor");
        }).find("cannot read '/nonexistent/model.xnor'") != std::string::npos);
  CHECK(error_of<std::system_error>([&] {
          InferenceSession::from_file(".");
        }).find("cannot read '.'") != std::string::npos);
  // A file the reader accepts but whose graph the engine refuses: an InvalidModel.
  const SmallNetwork net;
  const std::vector<uint8_t> wrong_width = test::seal(
      test::replace(net.header(), "\"in_channels\":16", "\"in_channels\":17"), net.blobs);
  const std::string message = error_of<InvalidModel>(
      [&] { InferenceSession::from_memory(wrong_width.data(), wrong_width.size()); });
  CHECK(message.find("node 'dense' (BinaryDense)") != std::string::npos);
  const std::vector<uint8_t> wrong_output =
      test::seal(test::replace(net.header(), "\"shape\":[-1,10]", "\"shape\":[-1,11]"), net.blobs);
  CHECK(error_of<InvalidModel>(
            [&] { InferenceSession::from_memory(wrong_output.data(), wrong_output.size()); }) ==
        "graph output 'probs' is declared with shape [-1, 11] but computes [1, 10] at batch 1");
}

TEST(bad_inputs_and_options_are_invalid_arguments) {
  const std::vector<uint8_t> bytes = SmallNetwork().bytes();
  InferenceSession session = InferenceSession::from_memory(bytes.data(), bytes.size());
  const std::vector<float> x = random_input(1);
  CHECK(error_of<InvalidArgument>([&] {
          session.run({{x.data(), {1, 5, 5, 7}}});
        }).find("input 'x' has shape [1, 5, 5, 7], the model expects [-1, 5, 5, 8]") !=
        std::string::npos);
  CHECK(error_of<InvalidArgument>([&] { session.run({}); }).find("the model has 1 inputs") !=
        std::string::npos);
  CHECK(error_of<InvalidArgument>([&] { session.run({{nullptr, {1, 5, 5, 8}}}); }) ==
        "an input's data pointer is null");
  std::vector<float> out(10);
  CHECK(error_of<InvalidArgument>([&] {
          session.run({{x.data(), {1, 5, 5, 8}}}, {out.data(), out.data()});
        }) == "the model has 1 outputs, got 2 buffers");
  std::vector<float> shared(5 * 5 * 8);  // the input's buffer, its start written as the output
  CHECK(error_of<InvalidArgument>([&] {
          session.run({{shared.data(), {1, 5, 5, 8}}}, {shared.data()});
        }).find("output buffer 0 overlaps input buffer 0") != std::string::npos);
  CHECK(error_of<InvalidArgument>([&] {
          InferenceSession::from_memory(bytes.data(), bytes.size(), {-1, ""});
        }).find("num_threads") != std::string::npos);
  CHECK(error_of<Error>([&] {
          InferenceSession::from_memory(bytes.data(), bytes.size(), {1, "sse9"});
        }).find("sse9") != std::string::npos);
}

}  // namespace
}  // namespace xnorinfer

TEST_MAIN()
