// How a tiled op splits its work into parallel_for tasks: pixel tiles times chunks of output
// channels. Results never depend on the split.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "xnorinfer/base/bits.h"

namespace xnorinfer {

// Channels per task for `tiles` pixel tiles on `num_threads` threads: all `channels`, or a
// multiple of `block` (block 0: the op cannot split its channels). Small images (the deep
// layers) have few pixel tiles, so their channels are split too, until every thread has
// several tasks. One thread takes all channels at once: a split only repeats each tile's
// setup (a strided 1x1 conv's im2col copy, 49 pixels x 256 channels, once per chunk).
inline int64_t channel_chunk(int64_t tiles, int num_threads, int64_t channels, int64_t block) {
  constexpr int64_t kTasksPerThread = 4;
  const int64_t wanted = kTasksPerThread * num_threads;
  if (block <= 0 || tiles >= wanted || num_threads == 1) return channels;
  const int64_t chunks = std::min((wanted + tiles - 1) / tiles, (channels + block - 1) / block);
  return round_up((channels + chunks - 1) / chunks, block);
}

// Pixels per tile, at most `max_pixels`, for `images` images of `pixels` output pixels: as many
// tiles as max_pixels needs, and where an image spans several, a few more so that the batch's
// tiles are a multiple of num_threads (a 28x28 image in 9 tiles of 96 pixels ran 5 tiles on one
// of 2 threads and 4 on the other: 1.63x its 1-thread time at best; in 10 of 79, 5 each).
inline int64_t balanced_tile_pixels(int64_t images, int64_t pixels, int num_threads,
                                    int64_t max_pixels) {
  int64_t tiles = (pixels + max_pixels - 1) / max_pixels;
  if (num_threads > 1 && tiles > 1) {
    while ((images * tiles) % num_threads != 0) ++tiles;
  }
  return (pixels + tiles - 1) / tiles;
}

// When parallel_for (base/parallel.h) would finish tasks of these costs, in order, on
// `num_threads` threads: each takes its own contiguous share from the front, then the items
// left in the others' shares.
double scheduled_finish(const std::vector<double>& costs, int num_threads);

struct RowChannelSplit {
  int64_t rows_per_tile;  // whole output rows per pixel tile
  int64_t channels_per_task;
};

// Tiles of a split are at most this many times the rows asked for.
constexpr int64_t kMaxTileGrowth = 2;

// The split of `images` images of `rows` output rows into tiles of tile_rows / 2 to
// kMaxTileGrowth * tile_rows rows, and of `channels` output channels into chunks of whole
// `block`s (block 0: no split), that parallel_for finishes first on `num_threads` threads (each
// task also costs a small fixed overhead, so of two equal splits the one with fewer tasks wins).
// Tiles of equal work matter: with 14 rows in tiles of 6 (6, 6, 2), two threads finished a layer
// 14% after their ideal time; 28 rows in tiles of 3 gave one thread 15 rows and the other 13
// (7% late; tiles of 7 give each 14). One thread, 8 whole tiles of tile_rows per thread already,
// or over 64 threads: tiles of tile_rows and channel_chunk()'s split.
// `row_setup`: what each task pays per output row of its tile beyond its channels' work, in
// channels of that row (the pixels' pointers and their share of the kernel calls, set up
// again by every channel chunk of a tile). It weighs against splitting channels where dot
// products are short.
RowChannelSplit split_rows_and_channels(int64_t images, int64_t rows, int64_t tile_rows,
                                        int64_t channels, int64_t block, int num_threads,
                                        double row_setup = 0.0);

}  // namespace xnorinfer
