// The register-tiled float GEMM of the scalar and AVX2 variants. Each ISA's .cc includes it and
// is compiled with that ISA's flags, so the compiler vectorizes the j loop for that width (with
// -mfma, std::fma becomes vfmadd; without, glibc's fma, which uses the FMA unit when the CPU has
// one). The arithmetic is identical in every variant (k order, fused multiply-add).
// Internal linkage (anonymous namespace): no variant's code can leak into another's.
#pragma once

#include <cmath>
#include <cstdint>

namespace xnorinfer {
namespace {

template <int MR, int NR>
inline void sgemm_tile(int64_t k, const float* a, int64_t a_stride, const float* panel, float* c,
                       int64_t c_stride, int rows, int cols, const float* bias, bool relu) {
  float acc[MR][NR] = {};
  for (int64_t p = 0; p < k; ++p) {
    const float* bp = panel + p * NR;  // zero-padded past the last column
    for (int i = 0; i < MR; ++i) {
      const float av = i < rows ? a[i * a_stride + p] : 0.0f;
      for (int j = 0; j < NR; ++j) acc[i][j] = std::fma(av, bp[j], acc[i][j]);
    }
  }
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) {
      float v = bias ? acc[i][j] + bias[j] : acc[i][j];
      if (relu) v = v < 0.0f ? 0.0f : v;
      c[i * c_stride + j] = v;
    }
  }
}

template <int MR, int NR>
inline void sgemm_tiled(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_stride,
                        const float* b_panels, float* c, int64_t c_stride, const float* bias,
                        bool relu) {
  for (int64_t j = 0; j < n; j += NR) {
    const int cols = static_cast<int>(n - j < NR ? n - j : NR);
    const float* panel = b_panels + (j / NR) * k * NR;
    for (int64_t i = 0; i < m; i += MR) {
      const int rows = static_cast<int>(m - i < MR ? m - i : MR);
      sgemm_tile<MR, NR>(k, a + i * a_stride, a_stride, panel, c + i * c_stride + j, c_stride, rows,
                         cols, bias ? bias + j : nullptr, relu);
    }
  }
}

}  // namespace
}  // namespace xnorinfer
