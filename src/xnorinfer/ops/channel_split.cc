#include "xnorinfer/ops/channel_split.h"

namespace xnorinfer {

double scheduled_finish(const std::vector<double>& costs, int num_threads) {
  const int64_t count = static_cast<int64_t>(costs.size());
  const int team = std::max(1, num_threads);
  std::vector<int64_t> next(team), end(team);
  for (int t = 0; t < team; ++t) {
    next[t] = count * t / team;
    end[t] = count * (t + 1) / team;
  }
  std::vector<double> clock(team, 0.0);
  std::vector<bool> done(team, false);
  double finish = 0.0;
  for (;;) {
    // The thread that is free first takes its next item: from its own share, else the first
    // share after it with items left.
    int t = -1;
    for (int u = 0; u < team; ++u) {
      if (!done[u] && (t < 0 || clock[u] < clock[t])) t = u;
    }
    if (t < 0) return finish;
    int share = -1;
    for (int k = 0; k < team && share < 0; ++k) {
      if (next[(t + k) % team] < end[(t + k) % team]) share = (t + k) % team;
    }
    if (share < 0) {
      done[t] = true;
      continue;
    }
    clock[t] += costs[next[share]++];
    finish = std::max(finish, clock[t]);
  }
}

RowChannelSplit split_rows_and_channels(int64_t images, int64_t rows, int64_t tile_rows,
                                        int64_t channels, int64_t block, int num_threads,
                                        double row_setup) {
  tile_rows = std::clamp<int64_t>(tile_rows, 1, rows);
  const int64_t whole_tiles = images * ((rows + tile_rows - 1) / tile_rows);
  // Enough whole tiles for every thread several times over, uneven tiles hardly matter; and
  // past kMaxModelledThreads the model would cost more than it saves. Both keep whole tiles
  // and channel_chunk()'s split.
  constexpr int64_t kEnoughTilesPerThread = 8;
  constexpr int kMaxModelledThreads = 64;
  if (num_threads <= 1 || num_threads > kMaxModelledThreads ||
      whole_tiles >= kEnoughTilesPerThread * num_threads) {
    return {tile_rows, channel_chunk(whole_tiles, num_threads, channels, block)};
  }
  // A task's cost in rows x (channels + row_setup), plus its fixed part (border calls of
  // fewer pixels): a tenth of a row of a 64-channel block.
  const double overhead = 6.4;
  const int64_t blocks = block > 0 ? (channels + block - 1) / block : 1;
  const int64_t max_tasks = 16 * static_cast<int64_t>(num_threads);  // more buy nothing
  RowChannelSplit best{tile_rows, channels};
  double best_score = -1.0;
  std::vector<double> costs;
  // Tiles of at least half of tile_rows: fewer rows make border calls of fewer pixels.
  for (int64_t r = std::min(rows, kMaxTileGrowth * tile_rows); r >= (tile_rows + 1) / 2; --r) {
    const int64_t tiles = (rows + r - 1) / r;
    for (int64_t per_chunk = blocks; per_chunk >= 1; --per_chunk) {
      const int64_t chunk = block > 0 ? std::min(channels, per_chunk * block) : channels;
      const int64_t chunks = (channels + chunk - 1) / chunk;
      if (images * tiles * chunks > max_tasks) break;  // smaller chunks only add tasks
      costs.clear();
      for (int64_t n = 0; n < images; ++n) {
        for (int64_t tile = 0; tile < tiles; ++tile) {
          const int64_t tile_rows = std::min(r, rows - tile * r);
          for (int64_t c = 0; c < chunks; ++c) {
            const int64_t width = std::min(chunk, channels - c * chunk);
            costs.push_back(static_cast<double>(tile_rows) * (width + row_setup) + overhead);
          }
        }
      }
      // Threads start and run a little unevenly, so a split that only balances by the exact
      // timing of its last large task is worse than it looks: a tenth of the largest task is
      // added. (Half of it, as first set, kept a 7x7x512 layer in 16 small tasks on 2 threads
      // where 2 halves by channels ran 4% faster.)
      const double score = scheduled_finish(costs, num_threads) +
                           0.1 * *std::max_element(costs.begin(), costs.end());
      if (best_score < 0.0 || score < best_score) {
        best_score = score;
        best = {r, chunk};
      }
    }
  }
  return best;
}

}  // namespace xnorinfer
