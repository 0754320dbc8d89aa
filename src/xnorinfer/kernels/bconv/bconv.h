// Binary convolution microkernels: XNOR + popcount of MR output pixels against one block of NB
// output channels. Each pixel is a base pointer into the input; a tap list, shared by the
// pixels of a call, says where each tap's activation words sit from that base and which weight
// rows it meets. So a 3x3 conv never copies its input, no per-pixel pointer table is built, and
// taps that fall into zero padding are simply left out of the list.
//
// Lanes: a kernel reads activations and weights in lanes of L bits (L = 64 or 32, listed in
// bconv.inc). A tap of B bits spans lanes_per_tap = ceil(B / L) lanes; lane k of a tap is bits
// [k*L, (k+1)*L) of its packed words (little-endian), so activations are read in place.
//
// Contract for every kernel in bconv.inc, for p < mr (1 <= mr <= MR) and j < NB:
//   counts[p * counts_stride + j] = sum over i < taps, k < lanes_per_tap of
//       popcount(lane k of (pixels[p] + tap_list[i].a_offset)
//                ^ weights[(tap_list[i].w_row * lanes_per_tap + k) * NB + j])
//   pixels     mr base pointers (words).
//   tap_list   `taps` entries: a_offset in words from a base, w_row the tap's weight row index.
//   weights    one channel block, transposed: rows of NB lanes, row r holding lane r of the NB
//              output channels' weights (zero lanes for channels past the layer's last one).
//              64-byte aligned.
//   counts     receives NB int32 per pixel; nothing else is written.
//
// With `to_float` given, a kernel writes each pixel's float output instead of its counts
// (counts is then unused; every products[p] must be at most kMaxFusedDotBits, so a kernel may
// take float(dot) as float(products) - 2 * float(count), exact in one FMA):
// dot = products[p] - 2 * count and, for j < channels (<= NB),
//   v = float(dot) * scale[j] + bias[j]        a multiply then an add (no FMA), exactly as
//                                              the output kernels (kernels/output/output.h)
//   v = v + residual[p][out_offset + j]        when residual is given
//   v = v < 0 ? 0 : v                          when relu (NaN and -0 stay)
//   out[p][out_offset + j] = v
//   bit out_offset + j of sum_bits[p] = v < sum_threshold[j]   when sum_threshold is given
// (a block of 64 channels writes its whole word, bits past `channels` 0; narrower blocks set
// and clear their own bits, and the one that starts a word clears it first: callers run a
// pixel's blocks in channel order). sum_threshold is the op's sum_offset negated: v < -s is
// exactly (v + s) < 0, as a float sum has the sign of its exact value (without flush-to-zero),
// and saves an add per vector.
//
// The masked twin of each kernel (ternary activations, ONNX Sign(0) = 0) counts only where the
// activation is nonzero: each sign lane's nonzero mask lane sits `mask_offset` words later, and
// the popcount is of (activation lane ^ weight lane) & mask lane.
// Counts are exact integers, so every variant returns identical results.
#pragma once

#include <cstdint>

#include "xnorinfer/base/bits.h"

namespace xnorinfer {

// The deepest dot product a kernel writes as floats itself (see above): below 2^24 every
// integer is a float.
constexpr int32_t kMaxFusedDotBits = int32_t{1} << 24;

struct BconvTap {
  int64_t a_offset;  // words from a pixel's base to the tap's first activation word
  int64_t w_row;     // the tap's index in the weight rows (rows w_row * lanes_per_tap + k)
};

// The float output a kernel can write in place of counts (see above).
struct BconvFloatOutput {
  const int32_t* products;  // per pixel
  float* const* out;        // per pixel: its output row
  int64_t out_offset;       // the block's first channel in the rows
  const float* scale;       // per channel of the block
  const float* bias;
  int64_t channels;                        // channels of the block to write
  const float* const* residual = nullptr;  // per pixel: the row added to the output
  bool relu = false;
  const float* sum_threshold = nullptr;  // per channel of the block
  Word* const* sum_bits = nullptr;       // per pixel: the packed row of the sum's signs
};

using BconvFn = void (*)(int64_t mr, int64_t taps, const BconvTap* tap_list, int64_t lanes_per_tap,
                         const Word* const* pixels, const void* weights, int32_t* counts,
                         int64_t counts_stride, const BconvFloatOutput* to_float);
using BconvMaskedFn = void (*)(int64_t mr, int64_t taps, const BconvTap* tap_list,
                               int64_t lanes_per_tap, const Word* const* pixels,
                               const void* weights, int32_t* counts, int64_t counts_stride,
                               const BconvFloatOutput* to_float, int64_t mask_offset);

#define XI_BCONV(fn, masked_fn, isa, mr, nb, lane_bits)                                          \
  void fn(int64_t, int64_t, const BconvTap*, int64_t, const Word* const*, const void*, int32_t*, \
          int64_t, const BconvFloatOutput*);                                                     \
  void masked_fn(int64_t, int64_t, const BconvTap*, int64_t, const Word* const*, const void*,    \
                 int32_t*, int64_t, const BconvFloatOutput*, int64_t);
#include "xnorinfer/kernels/bconv/bconv.inc"
#undef XI_BCONV

// The oracle: the same contract for any nb and lane width (64 or 32) given at run time;
// mask_offset < 0 is the unmasked contract.
void bconv_ref(int64_t mr, int64_t nb, int lane_bits, int64_t taps, const BconvTap* tap_list,
               int64_t lanes_per_tap, const Word* const* pixels, const void* weights,
               int32_t* counts, int64_t counts_stride, const BconvFloatOutput* to_float,
               int64_t mask_offset = -1);

// Channel j of pixel p's float output from its count, as the contract above computes it (the
// sign bit aside).
float bconv_float_value(const BconvFloatOutput& to_float, int64_t p, int64_t j, int32_t count);

// Writes counts (mr rows of nb, at counts + p * counts_stride) as `to_float` says; the portable
// epilogue of the kernels that have no vector one.
void bconv_counts_to_float(int64_t mr, const int32_t* counts, int64_t counts_stride,
                           const BconvFloatOutput& to_float);

}  // namespace xnorinfer
