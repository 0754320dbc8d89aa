#include <cmath>

#include "xnorinfer/kernels/sgemm/sgemm.h"

namespace xnorinfer {

void sgemm_ref(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_stride, const float* b,
               int64_t b_stride, float* c, int64_t c_stride) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int64_t p = 0; p < k; ++p) sum = std::fma(a[i * a_stride + p], b[p * b_stride + j], sum);
      c[i * c_stride + j] = sum;
    }
  }
}

}  // namespace xnorinfer
