#include "xnorinfer/kernels/peak/peak.h"

#include "xnorinfer/base/errors.h"

namespace xnorinfer {

int64_t xor_popcount_loop(Isa isa, int64_t iterations) {
  switch (isa) {
#ifdef XI_HAVE_AVX512
    case Isa::kAvx512:
      return xor_popcount_loop__avx512vpopcnt(iterations);
#endif
#ifdef XI_HAVE_AVX2
    case Isa::kAvx2:
      return xor_popcount_loop__avx2(iterations);
#endif
    default:
      (void)iterations;  // only the SIMD loops use it; which exist depends on the build
      throw InvalidArgument(std::string("no XOR-popcount peak loop for ISA ") + to_string(isa));
  }
}

int64_t fma_loop(Isa isa, int64_t iterations) {
  switch (isa) {
#ifdef XI_HAVE_AVX512
    case Isa::kAvx512:
      return fma_loop__avx512f(iterations);
#endif
#ifdef XI_HAVE_AVX2
    case Isa::kAvx2:
      return fma_loop__avx2(iterations);
#endif
    default:
      (void)iterations;
      throw InvalidArgument(std::string("no FMA peak loop for ISA ") + to_string(isa));
  }
}

}  // namespace xnorinfer
