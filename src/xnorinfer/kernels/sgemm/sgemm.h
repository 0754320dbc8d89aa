// Float GEMM microkernels for the float and BWN layers.
//
// Contract for every kernel in sgemm.inc:
//   c[i * c_stride + j] = sum over p < k of a[i * a_stride + p] * b[p * b_stride + j]
//   for 0 <= i < m, 0 <= j < n, accumulated from 0.0f in increasing p with a separate multiply
//   and add (no FMA), so every variant and thread count rounds identically.
//   b is k x n row-major (weights are stored transposed once, when the op is created).
//   Nothing outside the m x n block of c is written.
#pragma once

#include <cstdint>

namespace xnorinfer {

using SgemmFn = void (*)(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_stride,
                         const float* b, int64_t b_stride, float* c, int64_t c_stride);

#define XI_SGEMM(fn, isa, mr, nr) \
  void fn(int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t);
#include "xnorinfer/kernels/sgemm/sgemm.inc"
#undef XI_SGEMM

// Same contract; the oracle.
void sgemm_ref(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_stride, const float* b,
               int64_t b_stride, float* c, int64_t c_stride);

}  // namespace xnorinfer
