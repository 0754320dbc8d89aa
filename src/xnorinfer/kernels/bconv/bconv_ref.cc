#include "xnorinfer/kernels/bconv/bconv.h"

namespace xnorinfer {

void bconv_ref(int64_t mr, int64_t nb, int64_t taps, int64_t words_per_tap, const Word* const* a,
               const Word* weights, int32_t* counts, int64_t counts_stride, int64_t mask_offset) {
  for (int64_t p = 0; p < mr; ++p) {
    for (int64_t j = 0; j < nb; ++j) {
      int32_t count = 0;
      for (int64_t t = 0; t < taps; ++t) {
        const Word* tap = a[p * taps + t];
        for (int64_t w = 0; w < words_per_tap; ++w) {
          Word x = tap[w] ^ weights[(t * words_per_tap + w) * nb + j];
          if (mask_offset >= 0) x &= tap[w + mask_offset];
          while (x) {  // Kernighan's loop: deliberately unlike every optimized variant
            x &= x - 1;
            ++count;
          }
        }
      }
      counts[p * counts_stride + j] = count;
    }
  }
}

}  // namespace xnorinfer
