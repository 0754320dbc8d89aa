// Direct float convolution microkernels, for layers with few input channels (RGB stems), where
// an im2col copy of each window costs as much as the GEMM on it: MR output pixels x NB output
// channels, reading each pixel's window rows in place.
//
// A pixel's window is read through an offset table shared by the pixels of a call: window
// float k is pixels[p][offsets[k]] (with NHWC input and no dilation, each window row is kw * C
// contiguous offsets). One loop over the whole window: with a loop per window row (the stem's
// rows are 21 floats), the stem's tiles took 3-5% longer in a harness.
//
// Contract for every kernel in sconv.inc, for p < mr (1 <= mr <= MR) and j < channels (<= NB):
//   acc = +0; for k < window:
//     acc = fma(pixels[p][offsets[k]], weights[k * NB + j], acc)
//   acc = acc + bias[j]                        when bias is given (per channel of the block)
//   acc = acc < 0 ? 0 : acc                    when relu (NaN and -0 stay, as the Relu op)
//   out[p][out_offset + j] = acc
// The bias and relu are the ops' own epilogue (an add, then Activation's relu), done while the
// accumulators are in registers instead of in a second pass over the output.
// A fused multiply-add chain in the im2col row's order: the sgemm kernels round the same way on
// that row, whose padded zeros add nothing (for finite weights). `weights` are rows of NB
// floats (zero past the layer's channels), 64-byte aligned.
#pragma once

#include <cstdint>

namespace xnorinfer {

using SconvFn = void (*)(int64_t mr, int64_t window, const int64_t* offsets,
                         const float* const* pixels, const float* weights, float* const* out,
                         int64_t out_offset, int64_t channels, const float* bias, bool relu);

#define XI_SCONV(fn, isa, mr, nb)                                                             \
  void fn(int64_t, int64_t, const int64_t*, const float* const*, const float*, float* const*, \
          int64_t, int64_t, const float*, bool);
#include "xnorinfer/kernels/sconv/sconv.inc"
#undef XI_SCONV

}  // namespace xnorinfer
