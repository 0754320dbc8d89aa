// Max-pooling microkernels: the elementwise max of a window's rows (NHWC: one row of channels
// per tap), as ONNX MaxPool computes it.
//
// Contract for every kernel in pool.inc, for i < n:
//   y[i] = fold over r < count, in order, of: v = rows[r][i]; y = (v > y || v != v) ? v : y,
//   starting from y = -inf.
// So NaN wins (the last NaN in row order, bit for bit), and of +0 and -0 the first stays.
// Every variant gives identical bits.
#pragma once

#include <cstdint>

namespace xnorinfer {

using MaxRowsFn = void (*)(const float* const* rows, int64_t count, int64_t n, float* y);

#define XI_POOL(fn, isa) void fn(const float* const*, int64_t, int64_t, float*);
#include "xnorinfer/kernels/pool/pool.inc"
#undef XI_POOL

}  // namespace xnorinfer
