#include "xnorinfer/ops/conv_max_pool.h"

#include <algorithm>

#include "xnorinfer/base/bits.h"
#include "xnorinfer/base/parallel.h"
#include "xnorinfer/kernels/transpose/transpose.h"

namespace xnorinfer {

ConvMaxPool::ConvMaxPool(const NodeChecker& check, const ConvGeometry& pool, Isa isa)
    : pool_(pool), max_rows_(select_pool(isa).max_rows), transpose_(select_transpose(isa)) {
  check_pool_window(check, pool_);
}

TensorInfo ConvMaxPool::infer(const NodeChecker& check, const TensorInfo& conv) const {
  pool_.check_input(check, conv.shape[1], conv.shape[2]);
  return {DType::kFloat32,
          {conv.shape[0], pool_.out_h(conv.shape[1]), pool_.out_w(conv.shape[2]), conv.shape[3]}};
}

size_t ConvMaxPool::scratch_bytes(const ConvCore& core, const TensorInfo& conv, bool nchw) const {
  return static_cast<size_t>(Layout(*this, core, conv.shape, nchw).bytes);
}

ConvMaxPool::Layout::Layout(const ConvMaxPool& pool, const ConvCore& core, const Shape& conv,
                            bool nchw) {
  const int64_t slots = pool.window_rows(), channels = conv[3];
  const int64_t pooled_w = pool.pool_.out_w(conv[2]);
  ring = round_up(static_cast<int64_t>(core.scratch_bytes()), 64);
  maxima = ring + round_up(slots * conv[2] * channels * int64_t{sizeof(float)}, 64);
  const int64_t pooled_row_bytes = pooled_w * channels * int64_t{sizeof(float)};
  pointers = maxima + round_up(slots * pooled_row_bytes, 64);
  pooled =
      round_up(pointers + std::max(pool.pool_.kh, pool.pool_.kw) * int64_t{sizeof(float*)}, 64);
  bytes = pooled + (nchw ? pooled_row_bytes : 0);
}

void ConvMaxPool::run(const ConvCore& core, const Tensor& x, const Shape& conv, Tensor& y,
                      bool nchw, const RunContext& ctx,
                      const std::function<void(float*, int64_t)>& epilogue) const {
  const int64_t conv_h = conv[1], conv_w = conv[2], channels = conv[3];
  const Shape& y_shape = y.shape();
  const Shape ys = nchw ? Shape{y_shape[0], y_shape[2], y_shape[3], y_shape[1]} : y_shape;  // NHWC
  const int64_t plane = ys[1] * ys[2];
  const int64_t slots = window_rows();
  // One thread takes each image whole (where bands meet, conv rows are computed twice); more
  // take about two bands each over the batch: balance, and few recomputed rows.
  const int64_t bands_wanted =
      ctx.num_threads == 1
          ? 1
          : std::clamp<int64_t>((2 * ctx.num_threads + ys[0] - 1) / ys[0], 1, ys[1]);
  const int64_t band_rows = (ys[1] + bands_wanted - 1) / bands_wanted;
  const int64_t bands = (ys[1] + band_rows - 1) / band_rows;
  const Layout layout(*this, core, conv, nchw);
  const int64_t pooled_row = ys[2] * channels;
  parallel_for(ys[0] * bands, ctx.num_threads, [&](int64_t task, int thread) {
    const int64_t n = task / bands;
    const int64_t r0 = (task % bands) * band_rows, r1 = std::min(r0 + band_rows, ys[1]);
    uint8_t* scratch = ctx.thread_scratch(thread);
    float* ring = reinterpret_cast<float*>(scratch + layout.ring);
    float* maxima = reinterpret_cast<float*>(scratch + layout.maxima);
    const float** taps = reinterpret_cast<const float**>(scratch + layout.pointers);
    float* pooled = reinterpret_cast<float*>(scratch + layout.pooled);
    auto slot = [&](int64_t row) { return ring + (row % slots) * conv_w * channels; };
    auto row_maxima = [&](int64_t row) { return maxima + (row % slots) * pooled_row; };
    // Pooled column c's taps in a conv row.
    auto column_taps = [&](const float* row, int64_t c) {
      int64_t count = 0;
      for (int64_t kx = 0; kx < pool_.kw; ++kx) {
        const int64_t ix = c * pool_.stride_w - pool_.pad_left + kx * pool_.dilation_w;
        if (ix >= 0 && ix < conv_w) taps[count++] = row + ix * channels;
      }
      return count;
    };
    int64_t next = 0;  // conv rows below this one are done (or never needed)
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t top = r * pool_.stride_h - pool_.pad_top;
      const int64_t last = std::min(top + slots - 1, conv_h - 1);
      for (int64_t row = std::max({next, top, int64_t{0}}); row <= last; ++row) {
        float* out = slot(row);
        for (int64_t c0 = 0; c0 < conv_w; c0 += kConvTilePixels) {
          const int64_t count = std::min(kConvTilePixels, conv_w - c0);
          core.compute(x, n, row * conv_w + c0, count, conv_w, out + c0 * channels, {0, channels},
                       ctx, scratch);
        }
        epilogue(out, conv_w);
        // The row's maxima across each pooled column's window, once for every pooled row that
        // reads this conv row. Folding rows' maxima in row order is MaxPool's fold over the
        // window in its tap order (pooling.cc): the same max, the same NaN, the same of +0/-0.
        // The columns whose windows lie inside the row go in one call (one call per column of
        // 64 channels took a tenth more).
        for (int64_t c = 0; c < ys[2];) {
          const int64_t count = column_taps(out, c);
          const int64_t columns = pool_.column_run(c, conv_w);
          max_rows_(taps, count, channels, columns, pool_.stride_w * channels,
                    row_maxima(row) + c * channels);
          c += columns;
        }
      }
      next = std::max(next, last + 1);
      int64_t count = 0;
      for (int64_t ky = 0; ky < pool_.kh; ++ky) {
        const int64_t iy = top + ky * pool_.dilation_h;
        if (iy >= 0 && iy < conv_h) taps[count++] = row_maxima(iy);
      }
      if (!nchw) {
        max_rows_(taps, count, pooled_row, 1, 0, y.f32() + (n * ys[1] + r) * pooled_row);
        continue;
      }
      max_rows_(taps, count, pooled_row, 1, 0, pooled);
      transpose_matrix(transpose_, pooled, channels, ys[2], channels,
                       y.f32() + n * channels * plane + r * ys[2], plane);
    }
  });
}

}  // namespace xnorinfer
