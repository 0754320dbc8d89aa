// Portable pooling: one channel at a time.
#include "xnorinfer/kernels/pool/pool.h"
#include "xnorinfer/kernels/pool/pool_common.h"

namespace xnorinfer {

void max_rows_ukernel__scalar(const float* const* rows, int64_t count, int64_t n, int64_t groups,
                              int64_t step, float* y) {
  for (int64_t g = 0; g < groups; ++g, y += n) {
    for (int64_t i = 0; i < n; ++i) y[i] = max_fold(rows, count, g * step + i);
  }
}

void average_rows_ukernel__scalar(const float* const* rows, int64_t count, int64_t n,
                                  int64_t groups, int64_t step, float divisor, float* y) {
  for (int64_t g = 0; g < groups; ++g, y += n) {
    for (int64_t i = 0; i < n; ++i) y[i] = average_fold(rows, count, g * step + i, divisor);
  }
}

}  // namespace xnorinfer
