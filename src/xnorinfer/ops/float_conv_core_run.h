// FloatConvCore::run (a template, so each op's epilogue inlines).
#pragma once

#include <algorithm>

#include "xnorinfer/base/parallel.h"

namespace xnorinfer {

constexpr int64_t kFloatConvTilePixels = 96;  // a multiple of every sgemm kernel's mr (4, 8)

template <typename Epilogue>
void FloatConvCore::run(const Tensor& x, Tensor& y, const RunContext& ctx,
                        const Epilogue& epilogue) const {
  const Shape& ys = y.shape();
  const int64_t pixels = ys[1] * ys[2];
  const int64_t tiles = (pixels + kFloatConvTilePixels - 1) / kFloatConvTilePixels;
  parallel_for(ys[0] * tiles, ctx.num_threads, [&](int64_t task, int thread) {
    const int64_t n = task / tiles;
    const int64_t p0 = (task % tiles) * kFloatConvTilePixels;
    const int64_t count = std::min(kFloatConvTilePixels, pixels - p0);
    run_tile(x, y, n, p0, count, ctx.thread_scratch(thread));
    epilogue(y.f32() + (n * pixels + p0) * out_channels_, count);
  });
}

}  // namespace xnorinfer
