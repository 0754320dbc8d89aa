// Indirect binary convolution microkernels: XNOR + popcount of MR output pixels against one
// block of NB output channels, reading each pixel's taps through pointers (an indirection
// buffer), so a 3x3 conv never copies its input nine times.
//
// Contract for every kernel in bconv.inc:
//   counts[p * counts_stride + j] = sum over t < taps, w < words_per_tap of
//       popcount(a[p * taps + t][w] ^ weights[(t * words_per_tap + w) * NB + j])
//   for p < mr (1 <= mr <= MR) and j < NB.
//   a          mr * taps pointers, each to words_per_tap readable words (a pixel's channels,
//              or a padding pattern).
//   weights    one channel block, transposed: (taps * words_per_tap) rows of NB words, row k
//              holding word k of the NB output channels' weight rows (zero words for channels
//              past the layer's last one). 64-byte aligned.
//   counts     receives NB int32 per pixel; nothing else is written.
//
// The masked twin of each kernel (ternary activations, ONNX Sign(0) = 0) counts only where the
// activation is nonzero: the pixel's nonzero mask word sits `mask_offset` words after each of
// its sign words, and
//   counts[p * counts_stride + j] = sum of popcount((a[w] ^ weight word) & a[w + mask_offset]).
// A tap whose mask is 0 (a zero, or zero padding) contributes nothing.
// Counts are exact integers, so every variant returns identical results.
#pragma once

#include <cstdint>

#include "xnorinfer/base/bits.h"

namespace xnorinfer {

using BconvFn = void (*)(int64_t mr, int64_t taps, int64_t words_per_tap, const Word* const* a,
                         const Word* weights, int32_t* counts, int64_t counts_stride);

using BconvMaskedFn = void (*)(int64_t mr, int64_t taps, int64_t words_per_tap,
                               const Word* const* a, const Word* weights, int32_t* counts,
                               int64_t counts_stride, int64_t mask_offset);

#define XI_BCONV(fn, masked_fn, isa, mr, nb)                                             \
  void fn(int64_t, int64_t, int64_t, const Word* const*, const Word*, int32_t*, int64_t); \
  void masked_fn(int64_t, int64_t, int64_t, const Word* const*, const Word*, int32_t*,    \
                 int64_t, int64_t);
#include "xnorinfer/kernels/bconv/bconv.inc"
#undef XI_BCONV

// Same contract for any nb given at run time; the oracle.
// mask_offset < 0 is the unmasked contract.
void bconv_ref(int64_t mr, int64_t nb, int64_t taps, int64_t words_per_tap, const Word* const* a,
               const Word* weights, int32_t* counts, int64_t counts_stride,
               int64_t mask_offset = -1);

}  // namespace xnorinfer
