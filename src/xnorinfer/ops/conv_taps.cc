#include "xnorinfer/ops/conv_taps.h"

#include <algorithm>
#include <vector>

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

ImageTapPlan plan_image_taps(const ConvGeometry& geom, int64_t in_h, int64_t in_w, int64_t out_h,
                             int64_t out_w, int64_t pixel_words, int64_t tile_pixels,
                             int64_t max_taps) {
  ImageTapPlan plan;
  plan.tile_pixels = tile_pixels;
  plan.max_taps = max_taps;
  const int64_t pixels = out_h * out_w;
  plan.tile_classes.push_back(0);
  std::vector<TapWindow> windows;             // the tile's classes
  std::vector<std::vector<int64_t>> members;  // per class: its pixels, in raster order
  for (int64_t p0 = 0; p0 < pixels; p0 += tile_pixels) {
    windows.clear();
    members.clear();
    for (int64_t p = p0; p < std::min(p0 + tile_pixels, pixels); ++p) {
      const TapWindow w = tap_window(geom, p / out_w, p % out_w, in_h, in_w);
      size_t c = 0;
      while (c < windows.size() && !windows[c].same_taps(w)) ++c;
      if (c == windows.size()) {
        windows.push_back(w);
        members.emplace_back();
      }
      members[c].push_back(p);
    }
    for (size_t c = 0; c < windows.size(); ++c) {
      const TapWindow& first = windows[c];
      const auto begin = static_cast<int64_t>(plan.pixel.size());
      for (int64_t p : members[c]) {
        const TapWindow w = first.at(geom, p / out_w, p % out_w);
        plan.pixel.push_back(p);
        plan.first_tap.push_back(w.valid_taps() ? (w.y0 + w.ky0 * geom.dilation_h) * in_w + w.x0 +
                                                      w.kx0 * geom.dilation_w
                                                : 0);
      }
      plan.classes.push_back({begin, static_cast<int64_t>(plan.pixel.size()), first});
      plan.tap_lists.resize(plan.tap_lists.size() + static_cast<size_t>(max_taps));
      if (max_taps)
        write_tap_list(geom, in_w, pixel_words, first, &plan.tap_lists.end()[-max_taps]);
    }
    plan.tile_classes.push_back(static_cast<int64_t>(plan.classes.size()));
  }
  return plan;
}

}  // namespace xnorinfer
