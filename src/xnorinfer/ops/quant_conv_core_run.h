// QuantConvCore::run (a template, so each op's epilogue inlines).
#pragma once

#include <algorithm>

#include "xnorinfer/base/parallel.h"

namespace xnorinfer {

constexpr int64_t kQuantConvTilePixels = 96;  // a multiple of every qconv kernel's mr (4, 6)

template <typename Epilogue>
void QuantConvCore::run(const NodeChecker& check, const Tensor& x, Tensor& y,
                        const RunContext& ctx, const Epilogue& epilogue) const {
  quantize(check, x, ctx);
  const Shape& ys = y.shape();
  const int64_t pixels = ys[1] * ys[2];
  const int64_t tiles = (pixels + kQuantConvTilePixels - 1) / kQuantConvTilePixels;
  parallel_for(ys[0] * tiles, ctx.num_threads, [&](int64_t task, int thread) {
    const int64_t n = task / tiles;
    const int64_t p0 = (task % tiles) * kQuantConvTilePixels;
    const int64_t count = std::min(kQuantConvTilePixels, pixels - p0);
    run_tile(x, y, n, p0, count, ctx, ctx.thread_scratch(thread));
    epilogue(y.f32() + (n * pixels + p0) * out_channels_, count);
  });
}

}  // namespace xnorinfer
