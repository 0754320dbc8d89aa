// What Conv2d and BwnConv2d need from a convolution implementation (FloatConvCore,
// QuantConvCore): output shapes, scratch sizes, and the conv of a run of output pixels written
// where the op says, so that the op can tile the output, or stream rows into a fused pooling.
#pragma once

#include <cstddef>
#include <cstdint>

#include "xnorinfer/base/tensor.h"
#include "xnorinfer/ops/op.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {

// Output pixels per compute() call at most: a multiple of every kernel's tile height (4, 6, 8).
constexpr int64_t kConvTilePixels = 96;

// A range of output channels [begin, end).
struct OutputChannels {
  int64_t begin, end;
};

// The tile arrays of the direct kernels, for output pixels p0 .. p0 + count - 1 of a row-major
// output out_w wide: windows[i] = image + (oy * row_step + ox * column_step) (the pixel's window
// in a padded input), out[i] = y + i * channels. Row and column are stepped along: a division
// per pixel cost the float stem 2-3%.
template <typename T>
void tile_pixels(int64_t p0, int64_t count, int64_t out_w, const T* image, int64_t row_step,
                 int64_t column_step, float* y, int64_t channels, const T** windows, float** out) {
  for (int64_t i = 0, oy = p0 / out_w, ox = p0 % out_w; i < count; ++i) {
    windows[i] = image + oy * row_step + ox * column_step;
    out[i] = y + i * channels;
    if (++ox == out_w) ox = 0, ++oy;
  }
}

class ConvCore {
 public:
  virtual ~ConvCore() = default;

  // Output info for a float NHWC input; throws through `check` when it does not fit.
  virtual TensorInfo infer(const NodeChecker& check, const TensorInfo& x) const = 0;
  // Scratch of one thread's compute() calls, and scratch all threads share (for these infos).
  virtual size_t scratch_bytes() const = 0;
  virtual size_t shared_scratch_bytes(const TensorInfo& x) const {
    (void)x;
    return 0;
  }

  // Once per run, before any compute() call.
  virtual void prepare(const NodeChecker& check, const Tensor& x, const RunContext& ctx) const {
    (void)check, (void)x, (void)ctx;
  }

  // The conv (without the op's bias unless adds_bias(), then its relu if applies_relu()) of
  // output pixels [p0, p0 + count) of image n, channels `channels`, pixel p's at
  // out + (p - p0) * out_channels() + channel; count <= kConvTilePixels and the pixels
  // (row-major over the output's `out_w` columns) lie in one image. `channels` is all of them,
  // or starts on a multiple of channel_block().
  virtual void compute(const Tensor& x, int64_t n, int64_t p0, int64_t count, int64_t out_w,
                       float* out, OutputChannels channels, const RunContext& ctx,
                       uint8_t* scratch) const = 0;
  // The output channels a compute() call can be limited to come in blocks of this many (0:
  // only all of them), so that a small image can still be split among threads.
  virtual int64_t channel_block() const { return 0; }

  virtual int64_t out_channels() const = 0;
  virtual bool adds_bias() const { return false; }
  virtual bool applies_relu() const { return false; }
};

}  // namespace xnorinfer
