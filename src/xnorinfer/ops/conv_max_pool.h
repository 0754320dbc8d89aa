// A MaxPool fused into the float conv before it (Conv2d's pool_* attributes): each task takes a
// band of pooled rows and streams the conv rows they need through a ring of conv rows in its
// thread's scratch, pooling while they are hot: each conv row's maxima across the pooled
// columns' windows once, then each pooled row as the maximum of its window rows' maxima. The
// conv's output is never written out and read back (the stem's 3.2 MB at 224x224); a band
// recomputes only the conv rows its first window shares with the band before. With `nchw`, each
// pooled row goes through the thread's scratch and is transposed into the planes of an NCHW y.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/conv_core.h"
#include "xnorinfer/ops/conv_geometry.h"

namespace xnorinfer {

class ConvMaxPool {
 public:
  ConvMaxPool(const NodeChecker& check, const ConvGeometry& pool, Isa isa);

  // The pooled info of the conv's output info.
  TensorInfo infer(const NodeChecker& check, const TensorInfo& conv) const;
  // One thread's scratch: the conv core's, then the ring of conv rows and the tap pointers (and
  // a pooled row, with `nchw`).
  size_t scratch_bytes(const ConvCore& core, const TensorInfo& conv, bool nchw) const;

  // y = MaxPool(epilogue(conv(x))): `epilogue(row, pixels)` finishes each computed conv row
  // (bias, activation) before it is pooled. y is NHWC, or NCHW with `nchw`. core.prepare() must
  // have run.
  void run(const ConvCore& core, const Tensor& x, const Shape& conv, Tensor& y, bool nchw,
           const RunContext& ctx, const std::function<void(float*, int64_t)>& epilogue) const;

 private:
  int64_t window_rows() const { return (pool_.kh - 1) * pool_.dilation_h + 1; }

  // Byte offsets in a thread's scratch: the core's, the ring of conv rows, the ring of their
  // maxima across pooled columns, the tap pointers, the pooled row of an NCHW y.
  struct Layout {
    Layout(const ConvMaxPool& pool, const ConvCore& core, const Shape& conv, bool nchw);
    int64_t ring, maxima, pointers, pooled, bytes;
  };

  ConvGeometry pool_;
  MaxRowsFn max_rows_;
  TransposeTileFn transpose_;
};

}  // namespace xnorinfer
