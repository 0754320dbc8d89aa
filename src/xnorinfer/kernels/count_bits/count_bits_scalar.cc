// The portable kernel: the compiler's popcount, CNT on aarch64 and a libgcc call on baseline
// x86-64.
#include "xnorinfer/kernels/count_bits/count_bits_loop.h"

namespace xnorinfer {

void count_bits_ukernel__scalar(const Word* const* bases, int64_t count, const BconvTap* tap_list,
                                int64_t taps, int64_t words_per_tap, int64_t offset,
                                int32_t* totals) {
  count_bits_loop(bases, count, tap_list, taps, words_per_tap, offset, totals);
}

}  // namespace xnorinfer
