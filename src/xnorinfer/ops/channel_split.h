// How many output channels each task of a tiled op takes. Small images (the deep layers) have
// few pixel tiles, so their channels are split too, until every thread has several tasks.
// Results never depend on the split.
#pragma once

#include <algorithm>
#include <cstdint>

#include "xnorinfer/base/bits.h"

namespace xnorinfer {

// Channels per task for `tiles` pixel tiles on `num_threads` threads: all `channels`, or a
// multiple of `block` (block 0: the op cannot split its channels).
inline int64_t channel_chunk(int64_t tiles, int num_threads, int64_t channels, int64_t block) {
  constexpr int64_t kTasksPerThread = 4;
  const int64_t wanted = kTasksPerThread * num_threads;
  if (block <= 0 || tiles >= wanted) return channels;
  const int64_t chunks = std::min((wanted + tiles - 1) / tiles, (channels + block - 1) / block);
  return round_up((channels + chunks - 1) / chunks, block);
}

}  // namespace xnorinfer
