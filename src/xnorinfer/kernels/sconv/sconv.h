// Direct float convolution microkernels, for layers with few input channels (RGB stems), where
// an im2col copy of each window costs as much as the GEMM on it: MR output pixels x NB output
// channels, reading each pixel's window rows in place.
//
// A window row inside the image is kw * C contiguous floats (NHWC), so a pixel's window is a
// list of segments shared by the pixels of a call (conv_taps.h groups pixels by which taps
// fall inside the image; taps in the padding are left out).
//
// Contract for every kernel in sconv.inc, for p < mr (1 <= mr <= MR) and j < channels (<= NB):
//   acc = +0; for each segment s in order, for k < s.length:
//     acc = fma(pixels[p][s.a_offset + k], weights[(s.w_row + k) * NB + j], acc)
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

struct SconvSegment {
  int64_t a_offset;  // floats from a pixel's base
  int64_t w_row;     // the segment's first weight row
  int64_t length;    // floats
};

using SconvFn = void (*)(int64_t mr, int64_t segments, const SconvSegment* segment_list,
                         const float* const* pixels, const float* weights, float* const* out,
                         int64_t out_offset, int64_t channels, const float* bias, bool relu);

#define XI_SCONV(fn, isa, mr, nb)                                                                  \
  void fn(int64_t, int64_t, const SconvSegment*, const float* const*, const float*, float* const*, \
          int64_t, int64_t, const float*, bool);
#include "xnorinfer/kernels/sconv/sconv.inc"
#undef XI_SCONV

}  // namespace xnorinfer
