#include "xnorinfer/kernels/peak/peak.h"

#include "xnorinfer/base/errors.h"

namespace xnorinfer {
namespace {

using LoopFn = int64_t (*)(int64_t);

// One loop's variants per tier (nullptr where this build has none).
struct PeakLoop {
  const char* what;
  LoopFn avx512;
  LoopFn avx2;
  LoopFn neon;
};

int64_t run(const PeakLoop& loop, Isa isa, int64_t iterations) {
  const LoopFn fn = isa == Isa::kAvx512 ? loop.avx512
                    : isa == Isa::kAvx2 ? loop.avx2
                    : isa == Isa::kNeon ? loop.neon
                                        : nullptr;
  if (!fn)
    throw InvalidArgument(std::string("no ") + loop.what + " peak loop for ISA " + to_string(isa));
  return fn(iterations);
}

#ifdef XI_HAVE_AVX512
constexpr LoopFn kXorPopcountAvx512 = &xor_popcount_loop__avx512vpopcnt;
constexpr LoopFn kFmaAvx512 = &fma_loop__avx512f;
#else
constexpr LoopFn kXorPopcountAvx512 = nullptr;
constexpr LoopFn kFmaAvx512 = nullptr;
#endif
#ifdef XI_HAVE_AVX2
constexpr LoopFn kXorPopcountAvx2 = &xor_popcount_loop__avx2;
constexpr LoopFn kFmaAvx2 = &fma_loop__avx2;
#else
constexpr LoopFn kXorPopcountAvx2 = nullptr;
constexpr LoopFn kFmaAvx2 = nullptr;
#endif
#ifdef XI_HAVE_NEON
constexpr LoopFn kXorPopcountNeon = &xor_popcount_loop__neon;
constexpr LoopFn kFmaNeon = &fma_loop__neon;
#else
constexpr LoopFn kXorPopcountNeon = nullptr;
constexpr LoopFn kFmaNeon = nullptr;
#endif

}  // namespace

int64_t xor_popcount_loop(Isa isa, int64_t iterations) {
  return run({"XOR-popcount", kXorPopcountAvx512, kXorPopcountAvx2, kXorPopcountNeon}, isa,
             iterations);
}

int64_t fma_loop(Isa isa, int64_t iterations) {
  return run({"FMA", kFmaAvx512, kFmaAvx2, kFmaNeon}, isa, iterations);
}

}  // namespace xnorinfer
