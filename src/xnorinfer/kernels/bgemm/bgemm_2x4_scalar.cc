// Portable binary GEMM: 2 rows of a x 4 rows of b per tile, 64-bit popcount per word.
#include "xnorinfer/kernels/bgemm/bgemm.h"

namespace xnorinfer {
namespace {

inline int32_t popcount64(Word x) { return __builtin_popcountll(x); }

template <int MR, int NR>
void tile(int64_t k_words, const Word* a, int64_t a_stride, const Word* b, int64_t b_stride,
          int32_t* c, int64_t c_stride) {
  int32_t acc[MR][NR] = {};
  for (int64_t w = 0; w < k_words; ++w) {
    for (int i = 0; i < MR; ++i) {
      const Word av = a[i * a_stride + w];
      for (int j = 0; j < NR; ++j) acc[i][j] += popcount64(av ^ b[j * b_stride + w]);
    }
  }
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < NR; ++j) c[i * c_stride + j] = acc[i][j];
  }
}

}  // namespace

void bgemm_ukernel_2x4__scalar(int64_t m, int64_t n, int64_t k_words, const Word* a,
                               int64_t a_stride, const Word* b, int64_t b_stride, int32_t* c,
                               int64_t c_stride) {
  int64_t i = 0;
  for (; i + 2 <= m; i += 2) {
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
      tile<2, 4>(k_words, a + i * a_stride, a_stride, b + j * b_stride, b_stride,
                 c + i * c_stride + j, c_stride);
    }
    for (; j < n; ++j) {
      tile<2, 1>(k_words, a + i * a_stride, a_stride, b + j * b_stride, b_stride,
                 c + i * c_stride + j, c_stride);
    }
  }
  for (; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      tile<1, 1>(k_words, a + i * a_stride, a_stride, b + j * b_stride, b_stride,
                 c + i * c_stride + j, c_stride);
    }
  }
}

}  // namespace xnorinfer
