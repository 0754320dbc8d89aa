#include "xnorinfer/ops/conv_taps.h"

#include <algorithm>

#include "xnorinfer/base/aligned_buffer.h"

namespace xnorinfer {
namespace {

// The kernel positions k in [0, taps) with 0 <= start + k * step < size, as [first, end).
void valid_range(int64_t start, int64_t step, int64_t taps, int64_t size, int64_t* first,
                 int64_t* end) {
  int64_t lo = 0, hi = taps;
  while (lo < hi && start + lo * step < 0) ++lo;
  while (hi > lo && start + (hi - 1) * step >= size) --hi;
  *first = lo;
  *end = hi;
}

// The valid taps of window w, each from the pixel of its first valid tap.
void write_tap_list(const ConvGeometry& geom, int64_t in_w, int64_t pixel_words, const TapWindow& w,
                    BconvTap* tap) {
  for (int64_t ky = w.ky0; ky < w.ky1; ++ky) {
    for (int64_t kx = w.kx0; kx < w.kx1; ++kx, ++tap) {
      tap->a_offset =
          ((ky - w.ky0) * geom.dilation_h * in_w + (kx - w.kx0) * geom.dilation_w) * pixel_words;
      tap->w_row = ky * geom.kw + kx;
    }
  }
}

}  // namespace

TapWindow tap_window(const ConvGeometry& geom, int64_t oy, int64_t ox, int64_t in_h, int64_t in_w) {
  TapWindow w;
  w.y0 = oy * geom.stride_h - geom.pad_top;
  w.x0 = ox * geom.stride_w - geom.pad_left;
  valid_range(w.y0, geom.dilation_h, geom.kh, in_h, &w.ky0, &w.ky1);
  valid_range(w.x0, geom.dilation_w, geom.kw, in_w, &w.kx0, &w.kx1);
  return w;
}

size_t TileTapClasses::carve_size(int64_t tile_pixels, int64_t max_taps) {
  ScratchCarver measure(nullptr);
  carve(measure, tile_pixels, max_taps);
  return measure.size();
}

TileTapClasses TileTapClasses::carve(ScratchCarver& carve, int64_t tile_pixels, int64_t max_taps) {
  TileTapClasses c;
  c.begin = carve.take<int64_t>(tile_pixels + 1);
  c.order = carve.take<int64_t>(tile_pixels + 1);  // + 1: classify_tile's branch-free writes
  c.first_tap = carve.take<int64_t>(tile_pixels);
  c.windows = carve.take<TapWindow>(tile_pixels);
  c.max_taps = max_taps;
  c.tap_list = carve.take<BconvTap>(tile_pixels * max_taps);
  c.pixel_class = carve.take<int64_t>(tile_pixels);
  c.next = carve.take<int64_t>(tile_pixels);
  return c;
}

void classify_tile(const ConvGeometry& geom, int64_t in_h, int64_t in_w, int64_t out_w,
                   int64_t pixel_words, int64_t p0, int64_t pixels, TileTapClasses& classes) {
  // Locals, not the struct's fields: stores through these int64_t arrays could otherwise alias
  // the count and force it to be reloaded at every pixel.
  int64_t* const first_tap = classes.first_tap;
  int64_t* const pixel_class = classes.pixel_class;
  TapWindow* const windows = classes.windows;
  int64_t count = 0;
  const int64_t span_h = (geom.kh - 1) * geom.dilation_h, span_w = (geom.kw - 1) * geom.dilation_w;
  int64_t interior = -1;  // the class of windows wholly inside the image, once seen
  // Searches pixel p's class (creating it when new).
  const auto classify = [&](int64_t p, int64_t oy, int64_t ox) {
    const int64_t y0 = oy * geom.stride_h - geom.pad_top, x0 = ox * geom.stride_w - geom.pad_left;
    const TapWindow w = tap_window(geom, oy, ox, in_h, in_w);
    first_tap[p] =
        w.valid_taps() ? (y0 + w.ky0 * geom.dilation_h) * in_w + x0 + w.kx0 * geom.dilation_w : 0;
    int64_t c = 0;
    while (c < count && !windows[c].same_taps(w)) ++c;
    if (c == count) {  // a new class, and its tap list when the tile keeps them
      windows[count++] = w;
      if (classes.max_taps)
        write_tap_list(geom, in_w, pixel_words, w, classes.tap_list + c * classes.max_taps);
    }
    const bool inside = y0 >= 0 && y0 + span_h < in_h && x0 >= 0 && x0 + span_w < in_w;
    if (inside) interior = c;
    pixel_class[p] = c;
  };
  // Output columns whose windows lie inside the image across: [x_in0, x_in1).
  const int64_t x_in0 = std::min(out_w, (geom.pad_left + geom.stride_w - 1) / geom.stride_w);
  const int64_t room = in_w - 1 - span_w + geom.pad_left;
  const int64_t x_in1 = room < 0 ? x_in0 : std::clamp(room / geom.stride_w + 1, x_in0, out_w);
  // Row by row: the interior run of a row inside the image needs no search (most pixels).
  int64_t oy = p0 / out_w, ox = p0 % out_w;
  for (int64_t p = 0; p < pixels; ++oy, ox = 0) {
    const int64_t row_end = ox + std::min(out_w - ox, pixels - p);  // column past the tile's run
    const int64_t y0 = oy * geom.stride_h - geom.pad_top;
    const bool row_inside = y0 >= 0 && y0 + span_h < in_h;
    for (; ox < row_end; ++ox, ++p) {
      if (!row_inside || ox < x_in0 || ox >= x_in1 || interior < 0) {
        classify(p, oy, ox);
        continue;
      }
      const int64_t run_end = std::min(row_end, x_in1);
      const int64_t tap = y0 * in_w + ox * geom.stride_w - geom.pad_left;
      for (int64_t i = 0; i < run_end - ox; ++i) {  // placed last, in one pass
        pixel_class[p + i] = -1;
        first_tap[p + i] = tap + i * geom.stride_w;
      }
      p += run_end - ox - 1;
      ox = run_end - 1;
    }
  }
  // The pixels by class, in raster order within a class. The interior pixels of the fast path
  // fill their class's place after its first pixel in one branch-free pass (a counting sort's
  // increments of the one interior counter in memory were a chain of store-to-load latencies);
  // that pass's stray writes past its place land where the other classes' pixels, placed next
  // by a counting sort of the few the search classified, then overwrite them (or in order's
  // slack entry).
  int64_t* const begin = classes.begin;
  int64_t* const order = classes.order;
  int64_t* const next = classes.next;
  std::fill(begin, begin + count + 1, 0);
  int64_t fast = 0;
  for (int64_t p = 0; p < pixels; ++p) {
    if (pixel_class[p] >= 0) {
      ++begin[pixel_class[p] + 1];
    } else {
      ++fast;
    }
  }
  if (interior >= 0) begin[interior + 1] += fast;
  for (int64_t c = 0; c < count; ++c) begin[c + 1] += begin[c];
  std::copy(begin, begin + count, next);
  if (interior >= 0) {
    for (int64_t p = 0, k = begin[interior + 1] - fast; p < pixels; ++p) {
      order[k] = p;
      k += pixel_class[p] < 0 ? 1 : 0;
    }
  }
  for (int64_t p = 0; p < pixels; ++p) {
    if (pixel_class[p] >= 0) order[next[pixel_class[p]]++] = p;
  }
  classes.count = count;
}

ImageTapPlan plan_image_taps(const ConvGeometry& geom, int64_t in_h, int64_t in_w, int64_t out_h,
                             int64_t out_w, int64_t pixel_words, int64_t tile_pixels,
                             int64_t max_taps) {
  ImageTapPlan plan;
  plan.tile_pixels = tile_pixels;
  plan.max_taps = max_taps;
  const int64_t pixels = out_h * out_w;
  plan.pixel.resize(static_cast<size_t>(pixels));
  plan.first_tap.resize(static_cast<size_t>(pixels));
  AlignedBuffer buffer(TileTapClasses::carve_size(tile_pixels, max_taps));
  ScratchCarver carve(buffer.data());
  TileTapClasses tile = TileTapClasses::carve(carve, tile_pixels, max_taps);
  plan.tile_classes.push_back(0);
  for (int64_t p0 = 0; p0 < pixels; p0 += tile_pixels) {
    const int64_t count = std::min(tile_pixels, pixels - p0);
    classify_tile(geom, in_h, in_w, out_w, pixel_words, p0, count, tile);
    for (int64_t i = 0; i < count; ++i) {
      plan.pixel[p0 + i] = p0 + tile.order[i];
      plan.first_tap[p0 + i] = tile.first_tap[tile.order[i]];
    }
    for (int64_t c = 0; c < tile.count; ++c) {
      plan.classes.push_back({p0 + tile.begin[c], p0 + tile.begin[c + 1], tile.windows[c]});
      const BconvTap* taps = tile.tap_list + c * max_taps;
      const size_t at = plan.tap_lists.size();
      plan.tap_lists.resize(at + static_cast<size_t>(max_taps));
      std::copy(taps, taps + (max_taps ? tile.windows[c].valid_taps() : 0),
                plan.tap_lists.begin() + at);
    }
    plan.tile_classes.push_back(static_cast<int64_t>(plan.classes.size()));
  }
  return plan;
}

}  // namespace xnorinfer
