// Max-pooling microkernels: the elementwise max of a window's rows (NHWC: one row of channels
// per tap), as ONNX MaxPool computes it.
//
// Contract for every kernel in pool.inc, for g < groups and i < n:
//   y[g * n + i] = fold over r < count, in order, of: v = rows[r][g * step + i];
//                  y = (v > y || v != v) ? v : y, starting from y = -inf.
// So NaN wins (the last NaN in row order, bit for bit), and of +0 and -0 the first stays.
// Every variant gives identical bits. Groups are windows whose taps sit `step` floats after
// the previous window's (a pooled row's interior columns), so one call serves a whole row.
// The fold's first step always takes rows[0] (v > -inf, or v is NaN, or v is -inf itself),
// so kernels start from it.
#pragma once

#include <cstdint>

namespace xnorinfer {

using MaxRowsFn = void (*)(const float* const* rows, int64_t count, int64_t n, int64_t groups,
                           int64_t step, float* y);

#define XI_POOL(fn, isa) void fn(const float* const*, int64_t, int64_t, int64_t, int64_t, float*);
#include "xnorinfer/kernels/pool/pool.inc"
#undef XI_POOL

}  // namespace xnorinfer
