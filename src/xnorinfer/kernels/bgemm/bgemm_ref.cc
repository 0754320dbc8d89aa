#include "xnorinfer/kernels/bgemm/bgemm.h"

namespace xnorinfer {

void bgemm_ref(int64_t m, int64_t n, int64_t k_words, const Word* a, int64_t a_stride,
               const Word* b, int64_t b_stride, int32_t* c, int64_t c_stride) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      int32_t count = 0;
      for (int64_t w = 0; w < k_words; ++w) {
        Word x = a[i * a_stride + w] ^ b[j * b_stride + w];
        while (x) {  // Kernighan's loop: deliberately unlike every optimized variant
          x &= x - 1;
          ++count;
        }
      }
      c[i * c_stride + j] = count;
    }
  }
}

}  // namespace xnorinfer
