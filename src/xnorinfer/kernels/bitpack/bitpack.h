// Bit-packing microkernels: float rows -> packed sign bits (bits.h conventions).
//
// Contract for every kernel in bitpack.inc:
//   x        rows x channels floats, row r starts at x + r * x_row_stride (floats).
//   scale,   both nullptr, or channels floats each: the value packed is v = x * scale + bias
//   bias     (a multiply, then an add: a ChannelAffine's rounding, so the pair's bits are
//            the unfused ops' bits); without them v = x.
//   offset   nullptr, or channels floats added before the sign test: bit = (v + offset) < 0.
//   out      rows x words_for_bits(channels) words, row r at out + r * out_row_stride (words);
//            tail bits are written as 0. Nothing past a row's last word is written.
//   mask     nullptr, or the nonzero plane of a ternary tensor (ONNX Sign(0) = 0): row r at
//            mask + r * out_row_stride, bit = (v + offset) != 0 (NaN counts as nonzero, and
//            its sign bit is 0: +1, as without a mask); tail bits 0.
//   abs_mean nullptr, or rows floats: the mean over channels of |v| (without the offset),
//            summed in channel order so every variant rounds the same way.
// Kernels may read up to kExtraBytes past the end of x.
#pragma once

#include <cstdint>

#include "xnorinfer/base/bits.h"

namespace xnorinfer {

using BitpackFn = void (*)(const float* x, int64_t rows, int64_t channels, int64_t x_row_stride,
                           const float* scale, const float* bias, const float* offset, Word* out,
                           Word* mask, int64_t out_row_stride, float* abs_mean);

#define XI_BITPACK(fn, isa)                                                                  \
  void fn(const float*, int64_t, int64_t, int64_t, const float*, const float*, const float*, \
          Word*, Word*, int64_t, float*);
#include "xnorinfer/kernels/bitpack/bitpack.inc"
#undef XI_BITPACK

// Same contract; the oracle the kernels are tested against.
void bitpack_ref(const float* x, int64_t rows, int64_t channels, int64_t x_row_stride,
                 const float* scale, const float* bias, const float* offset, Word* out, Word* mask,
                 int64_t out_row_stride, float* abs_mean);

}  // namespace xnorinfer
