// Float GEMM, 4x16 register tile, compiled with the avx2 flags (see sgemm_tiled.h).
#include "xnorinfer/kernels/sgemm/sgemm.h"
#include "xnorinfer/kernels/sgemm/sgemm_tiled.h"

namespace xnorinfer {

void sgemm_ukernel_4x16__avx2(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_stride,
                              const float* b_panels, float* c, int64_t c_stride, const float* bias,
                              bool relu) {
  sgemm_tiled<4, 16>(m, n, k, a, a_stride, b_panels, c, c_stride, bias, relu);
}

}  // namespace xnorinfer
