// Direct bf16 convolution microkernels, for the opt-in bf16 layers (ops/quant_conv_core.h, and
// ops/dense.cc with one window row per input row):
// bf16 activations times bf16 weights accumulated in float32 as AVX-512 BF16's VDPBF16PS does,
// MR output pixels x NB output channels, each pixel's window read in place from a padded NHWC
// bf16 image (the qconv kernels' layout with 2-byte elements: 32-bit steps of 2 elements).
//
// Contract for every kernel in bfconv.inc, for p < mr (1 <= mr <= MR) and j < channels (<= NB),
// with a(k) the bf16 at byte 2k of pixels[p]'s row r (r * row_stride bytes on) and w(k) the bf16
// at byte ((r * row_bytes + 2k) / 4) * NB * 4 + j * 4 + (2k) % 4 of the weights:
//   acc = +0; for each row r, for each step s < row_bytes / 4:
//     acc = step(step(acc, a(2s + 1), w(2s + 1)), a(2s), w(2s))
//   v = acc + bias[j];  out[p][out_offset + j] = relu ? (v < 0 ? 0 : v) : v
// where step(acc, a, w) = flush(fma(a, w, acc)) in float32 with round-to-nearest-even and
// flush() setting a subnormal result to zero of its sign (VDPBF16PS: the odd element first,
// fused, denormal outputs flushed; inputs here are never subnormal: the op flushes them when it
// rounds to bf16). `weights` is 64-byte aligned.
#pragma once

#include <cstdint>

namespace xnorinfer {

using BfconvFn = void (*)(int64_t mr, int64_t rows, int64_t row_stride, int64_t row_bytes,
                          const uint8_t* const* pixels, const uint8_t* weights, const float* bias,
                          bool relu, float* const* out, int64_t out_offset, int64_t channels);

// Each conv kernel comes with a row rounding of the same ISA, which makes the kernel's input:
// dst[2i, 2i + 2) = to_bf16(x[i]) (bf16_round.h) for i < n (dst at any alignment, not
// overlapping x); returns whether every x[i] was finite.
using Bf16RoundFn = bool (*)(const float* x, int64_t n, uint8_t* dst);

#define XI_BFCONV(fn, round_fn, isa, feature, mr, nb)                                              \
  void fn(int64_t, int64_t, int64_t, int64_t, const uint8_t* const*, const uint8_t*, const float*, \
          bool, float* const*, int64_t, int64_t);                                                  \
  bool round_fn(const float*, int64_t, uint8_t*);
#include "xnorinfer/kernels/bfconv/bfconv.inc"
#undef XI_BFCONV

}  // namespace xnorinfer
