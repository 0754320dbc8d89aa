// A minimal test harness for the C++ tests (run by CTest): TEST(name) registers a function,
// CHECK / CHECK_EQ record a failure with its file, line and values and go on, and main() runs
// every test and returns nonzero when any check failed. No dependency beyond the standard
// library, so the tests build wherever the core builds (cross-compilers included).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace xnorinfer::test {

struct Registry {
  std::vector<std::pair<std::string, std::function<void()>>> tests;
  int64_t failures = 0;
  int64_t checks = 0;
  static Registry& get() {
    static Registry registry;
    return registry;
  }
};

struct Register {
  Register(const char* name, std::function<void()> fn) {
    Registry::get().tests.emplace_back(name, std::move(fn));
  }
};

inline void fail(const char* file, int line, const std::string& what) {
  // Report the first few failures in full; a broken kernel can fail millions of checks.
  if (++Registry::get().failures <= 20)
    std::fprintf(stderr, "%s:%d: %s\n", file, line, what.c_str());
}

template <typename A, typename B>
void check_eq(const A& a, const B& b, const char* expr_a, const char* expr_b, const char* file,
              int line, const std::string& context) {
  ++Registry::get().checks;
  if (a == b) return;
  std::ostringstream message;
  message << expr_a << " == " << expr_b << " failed: " << +a << " vs " << +b;
  if (!context.empty()) message << " (" << context << ")";
  fail(file, line, message.str());
}

// A seeded generator per test, so a failure reproduces.
inline std::mt19937_64& rng() {
  static std::mt19937_64 generator(20261201);
  return generator;
}

inline int main_impl() {
  Registry& r = Registry::get();
  for (auto& [name, fn] : r.tests) {
    const int64_t before = r.failures;
    fn();
    std::printf("%s %s\n", r.failures == before ? "ok  " : "FAIL", name.c_str());
  }
  std::printf("%zu tests, %lld checks, %lld failures\n", r.tests.size(),
              static_cast<long long>(r.checks), static_cast<long long>(r.failures));
  return r.failures == 0 && r.checks > 0 ? 0 : 1;  // no checks at all is a failure too
}

}  // namespace xnorinfer::test

#define XI_CONCAT_(a, b) a##b
#define XI_CONCAT(a, b) XI_CONCAT_(a, b)
#define TEST(name)                                                            \
  static void name();                                                         \
  static ::xnorinfer::test::Register XI_CONCAT(register_, name)(#name, name); \
  static void name()
#define CHECK(cond)                                                                      \
  do {                                                                                   \
    ++::xnorinfer::test::Registry::get().checks;                                         \
    if (!(cond)) ::xnorinfer::test::fail(__FILE__, __LINE__, "CHECK(" #cond ") failed"); \
  } while (0)
#define CHECK_EQ_CTX(a, b, context) \
  ::xnorinfer::test::check_eq((a), (b), #a, #b, __FILE__, __LINE__, (context))
#define CHECK_EQ(a, b) CHECK_EQ_CTX(a, b, std::string())
// Text equality (std::string, string_view or C strings, compared as text, not as pointers).
#define CHECK_STR_CTX(a, b, context)                                                              \
  do {                                                                                            \
    ++::xnorinfer::test::Registry::get().checks;                                                  \
    const std::string a_(a), b_(b);                                                               \
    if (a_ != b_)                                                                                 \
      ::xnorinfer::test::fail(__FILE__, __LINE__,                                                 \
                              #a " == " #b " failed: '" + a_ + "' vs '" + b_ + "' " + (context)); \
  } while (0)
#define CHECK_STR(a, b) CHECK_STR_CTX(a, b, std::string())
#define TEST_MAIN() \
  int main() { return ::xnorinfer::test::main_impl(); }
