// Bit-counting kernels: how many bits are set in the words a tap list points at, per pixel (or
// row). A ternary activation's products are the popcount of its nonzero masks over the valid
// taps, once per pixel. Op code is built for baseline x86-64, where a popcount is a call into a
// software routine: counted there, a 56x56x64 ternary conv spent a quarter of its time in it.
//
// Contract for every kernel in count_bits.inc, for i < count:
//   totals[i] = sum over t < taps, k < words_per_tap of
//       popcount(bases[i][tap_list[t].a_offset + offset + k])
// Exact integers, so every variant gives the same counts.
#pragma once

#include <cstdint>

#include "xnorinfer/base/bits.h"
#include "xnorinfer/kernels/bconv/bconv.h"

namespace xnorinfer {

using CountBitsFn = void (*)(const Word* const* bases, int64_t count, const BconvTap* tap_list,
                             int64_t taps, int64_t words_per_tap, int64_t offset, int32_t* totals);

#define XI_COUNT_BITS(fn, isa) \
  void fn(const Word* const*, int64_t, const BconvTap*, int64_t, int64_t, int64_t, int32_t*);
#include "xnorinfer/kernels/count_bits/count_bits.inc"
#undef XI_COUNT_BITS

}  // namespace xnorinfer
