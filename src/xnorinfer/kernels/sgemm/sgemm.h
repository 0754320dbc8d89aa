// Float GEMM microkernels for the float and BWN layers.
//
// Contract for every kernel in sgemm.inc (NR = the kernel's nr):
//   c[i * c_stride + j] = sum over p < k of a[i * a_stride + p] * B[p][j]
//   for 0 <= i < m, 0 <= j < n, accumulated from 0.0f in increasing p, each step one fused
//   multiply-add (std::fma semantics: one rounding), so every variant and thread count rounds
//   identically. (FMA measured 20-30% faster than a multiply and an add on the float layers.)
//   Then, while the sums are in registers, the ops' own epilogue:
//     c = c + bias[j]          when bias is given (n floats, one per column of the call)
//     c = c < 0 ? 0 : c        when relu (NaN and -0 stay, as the Relu op)
//   (a second pass over c for the bias cost a 1x1 conv 10-15% of its time).
//   B is packed in panels (weights are packed once, when the op is created): panel q holds
//   columns [q * NR, q * NR + NR) as k contiguous rows of NR floats, zero past column n;
//   panels follow each other; 64-byte aligned. Nothing outside the m x n block of c is written.
#pragma once

#include <cstdint>

namespace xnorinfer {

using SgemmFn = void (*)(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_stride,
                         const float* b_panels, float* c, int64_t c_stride, const float* bias,
                         bool relu);

#define XI_SGEMM(fn, isa, mr, nr)                                                          \
  void fn(int64_t, int64_t, int64_t, const float*, int64_t, const float*, float*, int64_t, \
          const float*, bool);
#include "xnorinfer/kernels/sgemm/sgemm.inc"
#undef XI_SGEMM

// The oracle: the same sums (no epilogue), with B plain row-major k x n (b_stride floats per
// row).
void sgemm_ref(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_stride, const float* b,
               int64_t b_stride, float* c, int64_t c_stride);

}  // namespace xnorinfer
