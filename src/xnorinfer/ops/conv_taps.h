// Which taps of a convolution window fall inside the image, per output pixel, as the tap lists
// the bconv kernels read (kernels/bconv/bconv.h).
//
// An output pixel's valid taps are the rows ky in [ky0, ky1) and columns kx in [kx0, kx1) of
// the kernel window (contiguous, as taps are evenly spaced), so pixels fall into a few
// classes: the interior, each edge, each corner. The pixels of a tile are grouped by class, so
// one kernel call serves several pixels that share a tap list, and taps in the padding are
// never read: zero padding costs nothing and needs no correction.
#pragma once

#include <cstdint>
#include <vector>

#include "xnorinfer/kernels/bconv/bconv.h"
#include "xnorinfer/ops/conv_geometry.h"

namespace xnorinfer {

struct TapWindow {
  int64_t y0, x0;              // the window's top-left input pixel (may lie in the padding)
  int64_t ky0, ky1, kx0, kx1;  // its valid kernel rows and columns
  int64_t valid_taps() const { return (ky1 - ky0) * (kx1 - kx0); }
  bool same_taps(const TapWindow& o) const {
    return ky0 == o.ky0 && ky1 == o.ky1 && kx0 == o.kx0 && kx1 == o.kx1;
  }
  // The same valid taps, for output pixel (oy, ox) of a window of the same class.
  TapWindow at(const ConvGeometry& geom, int64_t oy, int64_t ox) const {
    TapWindow w = *this;
    w.y0 = oy * geom.stride_h - geom.pad_top;
    w.x0 = ox * geom.stride_w - geom.pad_left;
    return w;
  }
};

TapWindow tap_window(const ConvGeometry& geom, int64_t oy, int64_t ox, int64_t in_h, int64_t in_w);

// Every tile of one image grouped by class, once (an op keeps it per input shape): tile t is
// pixels [t * tile_pixels, ...) in raster order; its classes in order of first appearance, the
// pixels of a class in raster order, are entries [t * tile_pixels, ...) of `pixel` and
// `first_tap`.
struct ImageTapPlan {
  struct Class {
    int64_t begin, end;  // its ordered pixels' entries
    TapWindow window;    // of its first pixel
  };
  int64_t tile_pixels = 0;
  int64_t max_taps = 0;
  std::vector<int64_t> tile_classes;  // tile t's classes: [tile_classes[t], tile_classes[t + 1])
  std::vector<Class> classes;
  std::vector<BconvTap> tap_lists;  // class c's valid taps from c * max_taps
  std::vector<int64_t> pixel;       // per ordered pixel: its raster index in the image
  std::vector<int64_t> first_tap;   // per ordered pixel: iy * in_w + ix of its first valid tap

  int64_t tiles() const { return static_cast<int64_t>(tile_classes.size()) - 1; }
};

// The plan of an in_h x in_w image whose output rows are out_w wide (out_h of them), in tiles
// of tile_pixels. A class's tap list (max_taps entries, its valid taps first) gives each valid
// tap's a_offset = ((ky - ky0) * dh * in_w + (kx - kx0) * dw) * pixel_words, relative to a
// pixel's first valid tap, and w_row = ky * kw + kx.
ImageTapPlan plan_image_taps(const ConvGeometry& geom, int64_t in_h, int64_t in_w, int64_t out_h,
                             int64_t out_w, int64_t pixel_words, int64_t tile_pixels,
                             int64_t max_taps);

}  // namespace xnorinfer
