#include "xnorinfer/ops/conv_max_pool.h"

#include <algorithm>

#include "xnorinfer/base/bits.h"
#include "xnorinfer/base/parallel.h"

namespace xnorinfer {

ConvMaxPool::ConvMaxPool(const NodeChecker& check, const ConvGeometry& pool, Isa isa)
    : pool_(pool), max_rows_(select_max_rows(isa)) {
  check_pool_window(check, pool_);
}

TensorInfo ConvMaxPool::infer(const NodeChecker& check, const TensorInfo& conv) const {
  pool_.check_input(check, conv.shape[1], conv.shape[2]);
  return {DType::kFloat32,
          {conv.shape[0], pool_.out_h(conv.shape[1]), pool_.out_w(conv.shape[2]), conv.shape[3]}};
}

size_t ConvMaxPool::scratch_bytes(const ConvCore& core, const TensorInfo& conv) const {
  const int64_t ring = window_rows() * conv.shape[2] * conv.shape[3] * int64_t{sizeof(float)};
  const int64_t taps = pool_.kh * pool_.kw * int64_t{sizeof(const float*)};
  return static_cast<size_t>(round_up(static_cast<int64_t>(core.scratch_bytes()), 64) +
                             round_up(ring, 64) + taps);
}

void ConvMaxPool::run(const ConvCore& core, const Tensor& x, const Shape& conv, Tensor& y,
                      const RunContext& ctx,
                      const std::function<void(float*, int64_t)>& epilogue) const {
  const int64_t conv_h = conv[1], conv_w = conv[2], channels = conv[3];
  const Shape& ys = y.shape();
  const int64_t slots = window_rows();
  // About two bands per thread over the batch: balance, and few recomputed rows.
  const int64_t bands_wanted = std::clamp<int64_t>((2 * ctx.num_threads + ys[0] - 1) / ys[0], 1, ys[1]);
  const int64_t band_rows = (ys[1] + bands_wanted - 1) / bands_wanted;
  const int64_t bands = (ys[1] + band_rows - 1) / band_rows;
  const int64_t core_scratch = round_up(static_cast<int64_t>(core.scratch_bytes()), 64);
  const int64_t ring_bytes = round_up(slots * conv_w * channels * int64_t{sizeof(float)}, 64);
  parallel_for(ys[0] * bands, ctx.num_threads, [&](int64_t task, int thread) {
    const int64_t n = task / bands;
    const int64_t r0 = (task % bands) * band_rows, r1 = std::min(r0 + band_rows, ys[1]);
    uint8_t* scratch = ctx.thread_scratch(thread);
    float* ring = reinterpret_cast<float*>(scratch + core_scratch);
    const float** taps = reinterpret_cast<const float**>(scratch + core_scratch + ring_bytes);
    auto slot = [&](int64_t row) { return ring + (row % slots) * conv_w * channels; };
    int64_t next = 0;  // conv rows below this one are done (or never needed)
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t top = r * pool_.stride_h - pool_.pad_top;
      const int64_t last = std::min(top + slots - 1, conv_h - 1);
      for (int64_t row = std::max({next, top, int64_t{0}}); row <= last; ++row) {
        float* out = slot(row);
        for (int64_t c0 = 0; c0 < conv_w; c0 += kConvTilePixels) {
          const int64_t count = std::min(kConvTilePixels, conv_w - c0);
          core.compute(x, n, row * conv_w + c0, count, conv_w, out + c0 * channels, ctx, scratch);
        }
        epilogue(out, conv_w);
      }
      next = std::max(next, last + 1);
      // The taps in MaxPool's order (pooling.cc), so the results are the same bits.
      for (int64_t c = 0; c < ys[2]; ++c) {
        int64_t count = 0;
        for (int64_t ky = 0; ky < pool_.kh; ++ky) {
          const int64_t iy = top + ky * pool_.dilation_h;
          if (iy < 0 || iy >= conv_h) continue;
          for (int64_t kx = 0; kx < pool_.kw; ++kx) {
            const int64_t ix = c * pool_.stride_w - pool_.pad_left + kx * pool_.dilation_w;
            if (ix >= 0 && ix < conv_w) taps[count++] = slot(iy) + ix * channels;
          }
        }
        max_rows_(taps, count, channels, y.f32() + ((n * ys[1] + r) * ys[2] + c) * channels);
      }
    }
  });
}

}  // namespace xnorinfer
