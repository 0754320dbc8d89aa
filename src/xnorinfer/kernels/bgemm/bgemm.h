// Binary GEMM microkernels: popcount(a XOR b) summed over packed rows.
//
// Contract for every kernel in bgemm.inc:
//   c[i * c_stride + j] = sum over w < k_words of popcount(a[i * a_stride + w] ^ b[j * b_stride + w])
//   for 0 <= i < m, 0 <= j < n. The result is a count of differing bits; callers turn it into a
//   ±1 dot product as k_bits - 2 * count (bits.h).
//   k_words is a positive multiple of kRowAlignWords (8); padding words must be 0 in both a and b.
//   a and b need no particular alignment. Nothing outside the m x n block of c is written.
#pragma once

#include <cstdint>

#include "xnorinfer/base/bits.h"

namespace xnorinfer {

using BgemmFn = void (*)(int64_t m, int64_t n, int64_t k_words, const Word* a, int64_t a_stride,
                         const Word* b, int64_t b_stride, int32_t* c, int64_t c_stride);

#define XI_BGEMM(fn, isa, mr, nr) \
  void fn(int64_t, int64_t, int64_t, const Word*, int64_t, const Word*, int64_t, int32_t*, int64_t);
#include "xnorinfer/kernels/bgemm/bgemm.inc"
#undef XI_BGEMM

// Same contract, any k_words >= 0; the oracle the kernels are tested against.
void bgemm_ref(int64_t m, int64_t n, int64_t k_words, const Word* a, int64_t a_stride,
               const Word* b, int64_t b_stride, int32_t* c, int64_t c_stride);

}  // namespace xnorinfer
