// Portable max pooling: one channel at a time.
#include <cmath>

#include "xnorinfer/kernels/pool/pool.h"

namespace xnorinfer {

void max_rows_ukernel__scalar(const float* const* rows, int64_t count, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    float m = -INFINITY;
    for (int64_t r = 0; r < count; ++r) {
      const float v = rows[r][i];
      m = (v > m) | (v != v) ? v : m;
    }
    y[i] = m;
  }
}

}  // namespace xnorinfer
