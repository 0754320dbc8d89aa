// Output-transform microkernels: from counts of differing bits to a binary layer's output.
//
// Contract for every pair in output.inc, for channels o < n:
//   dot = products - 2 * counts[o]
//   to_float:  out[o] = float(dot) * scale[o] + bias[o]       (a multiply, then an add: no FMA)
//   to_bits:   bit o of out = dot < below[o] || dot > above[o]; n bits are written as
//              words_for_bits(n) whole words, bits past n are 0.
// `below`/`above` are integer thresholds that reproduce a float threshold exactly
// (see ops/output_transform.h), so packed outputs are identical on every path.
#pragma once

#include <cstdint>

#include "xnorinfer/base/bits.h"

namespace xnorinfer {

using DotToFloatFn = void (*)(const int32_t* counts, int32_t products, int64_t n,
                              const float* scale, const float* bias, float* out);
using DotToBitsFn = void (*)(const int32_t* counts, int32_t products, int64_t n,
                             const int32_t* below, const int32_t* above, Word* out);

#define XI_OUTPUT(to_float, to_bits, isa)                                              \
  void to_float(const int32_t*, int32_t, int64_t, const float*, const float*, float*); \
  void to_bits(const int32_t*, int32_t, int64_t, const int32_t*, const int32_t*, Word*);
#include "xnorinfer/kernels/output/output.inc"
#undef XI_OUTPUT

}  // namespace xnorinfer
