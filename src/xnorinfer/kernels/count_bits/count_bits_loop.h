// The counting loop of the bit-counting kernels, compiled once per translation unit: with
// -mpopcnt (count_bits_avx2.cc) each popcount is one POPCNT, without it a libgcc call. Internal
// linkage (anonymous namespace), so the linker can never pick the POPCNT copy for the scalar
// path.
#pragma once

#include "xnorinfer/kernels/count_bits/count_bits.h"

namespace xnorinfer {
namespace {

inline void count_bits_loop(const Word* const* bases, int64_t count, const BconvTap* tap_list,
                            int64_t taps, int64_t words_per_tap, int64_t offset, int32_t* totals) {
  for (int64_t i = 0; i < count; ++i) {
    int32_t total = 0;
    for (int64_t t = 0; t < taps; ++t) {
      const Word* words = bases[i] + tap_list[t].a_offset + offset;
      for (int64_t k = 0; k < words_per_tap; ++k) total += __builtin_popcountll(words[k]);
    }
    totals[i] = total;
  }
}

}  // namespace
}  // namespace xnorinfer
