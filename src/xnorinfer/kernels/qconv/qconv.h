// Direct int8 convolution microkernels, for the opt-in int8 first layer (ops/quant_conv_core.h):
// unsigned 8-bit activations times signed 8-bit weights, summed exactly in int32, MR output
// pixels x NB output channels, each pixel's window read in place from a quantized, padded NHWC
// image.
//
// A window row of the padded image is kw * C contiguous bytes; the layer pads it to row_bytes,
// a multiple of 4, with zero weights, so each step takes 4 activation bytes into one 32-bit
// lane (VPDPBUSD's shape). A pixel's rows are row_stride bytes apart.
//
// Contract for every kernel in qconv.inc, for p < mr (1 <= mr <= MR) and j < channels (<= NB):
//   sum = sum over r < rows, k < row_bytes of
//       uint8(pixels[p][r * row_stride + k]) * int8(weights[((r * row_bytes + k) / 4) * NB * 4
//                                                           + j * 4 + k % 4])
//   v = float(sum - correction[j]) * multiplier[j] + bias[j]
//   out[p][out_offset + j] = relu ? (v < 0 ? 0 : v) : v
// (one float multiply, then one add: no fused multiply-add; the relu keeps -0, as the Relu op).
// Every product and sum is exact
// (|sum - correction| < 2^31 for the layer sizes the op accepts), so every kernel gives the same
// floats. `weights` is 64-byte aligned; correction, multiplier and bias start at the block.
#pragma once

#include <cstdint>

namespace xnorinfer {

// The per-channel dequantization of one block of output channels.
struct QconvOutput {
  const int32_t* correction;  // zero point x weight sum
  const float* multiplier;    // activation scale x weight scale
  const float* bias;
  bool relu = false;
};

using QconvFn = void (*)(int64_t mr, int64_t rows, int64_t row_stride, int64_t row_bytes,
                         const uint8_t* const* pixels, const int8_t* weights,
                         const QconvOutput& output, float* const* out, int64_t out_offset,
                         int64_t channels);

// Each conv kernel comes with the two passes of the same ISA that make its input
// (int8_quantize.h):
//   range: *lo = min(0, x[i]) and *hi = max(0, x[i]) over i < n, *finite whether every x[i]
//          is (lo and hi mean nothing when not);
//   quantize_row: q[i] = quantize(x[i], inverse, zero) for i < n (x finite).
using QrangeFn = void (*)(const float* x, int64_t n, float* lo, float* hi, bool* finite);
using QuantizeRowFn = void (*)(const float* x, int64_t n, float inverse, int32_t zero, uint8_t* q);

#define XI_QCONV(fn, range_fn, quantize_fn, isa, feature, mr, nb)                   \
  void fn(int64_t, int64_t, int64_t, int64_t, const uint8_t* const*, const int8_t*, \
          const QconvOutput&, float* const*, int64_t, int64_t);                     \
  void range_fn(const float*, int64_t, float*, float*, bool*);                      \
  void quantize_fn(const float*, int64_t, float, int32_t, uint8_t*);
#include "xnorinfer/kernels/qconv/qconv.inc"
#undef XI_QCONV

}  // namespace xnorinfer
