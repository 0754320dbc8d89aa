// Pooling microkernels: the elementwise max, or the mean, of a window's rows (NHWC: one row of
// channels per tap), as ONNX MaxPool and AveragePool compute them.
//
// Contract for every kernel in pool.inc, for g < groups and i < n, with
// v_r = rows[r][g * step + i]:
//   max_rows:     y[g * n + i] = fold over r < count, in order, of
//                 y = (v_r > y || v_r != v_r) ? v_r : y, starting from y = -inf.
//   average_rows: y[g * n + i] = (((+0 + v_0) + v_1) + ... + v_(count-1)) / divisor, each step
//                 one rounded float add, then one float division.
// So NaN wins the max (the last NaN in row order, bit for bit), and of +0 and -0 the first
// stays; the mean adds in row order. Every variant gives identical bits.
// Groups are windows whose taps sit `step` floats after the previous window's (a pooled row's
// interior columns), so one call serves a whole row.
// The max fold's first step always takes rows[0] (v > -inf, or v is NaN, or v is -inf itself),
// so kernels start from it.
#pragma once

#include <cstdint>

namespace xnorinfer {

using MaxRowsFn = void (*)(const float* const* rows, int64_t count, int64_t n, int64_t groups,
                           int64_t step, float* y);
using AverageRowsFn = void (*)(const float* const* rows, int64_t count, int64_t n, int64_t groups,
                               int64_t step, float divisor, float* y);

#define XI_POOL(max_fn, average_fn, isa)                                        \
  void max_fn(const float* const*, int64_t, int64_t, int64_t, int64_t, float*); \
  void average_fn(const float* const*, int64_t, int64_t, int64_t, int64_t, float, float*);
#include "xnorinfer/kernels/pool/pool.inc"
#undef XI_POOL

}  // namespace xnorinfer
