// parallel_for: every item runs exactly once, on a thread index below the team size, whatever
// the item count and thread count (each thread's share, then the others' leftovers). The
// model of that schedule, and the split of a tiled op's work it chooses.
#include "xnorinfer/base/parallel.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "check.h"
#include "xnorinfer/ops/channel_split.h"

namespace xnorinfer {
namespace {

TEST(every_item_runs_exactly_once) {
  for (int threads : {1, 2, 3, 5}) {
    for (int64_t count : {0, 1, 2, 3, 7, 64, 1000}) {
      std::vector<std::atomic<int>> runs(static_cast<size_t>(count));
      std::atomic<int> bad_thread{0};
      parallel_for(count, threads, [&](int64_t i, int thread) {
        runs[static_cast<size_t>(i)].fetch_add(1);
        if (thread < 0 || thread >= threads) bad_thread.fetch_add(1);
      });
      const std::string where =
          std::to_string(count) + " items, " + std::to_string(threads) + " threads";
      for (int64_t i = 0; i < count; ++i) CHECK_EQ_CTX(runs[i].load(), 1, where);
      CHECK_EQ_CTX(bad_thread.load(), 0, where);
    }
  }
}

// Inside another parallel region (nesting off, OpenMP's default) a loop gets a team of one
// thread, fewer than it asked for: that thread must still run every share.
TEST(a_smaller_team_than_asked_still_runs_every_item) {
  // A fork gate closed by an earlier test (a thread that started late) would run the loops
  // serially, never forking: wait until it opens (its backoff is 2 s at most).
  const int64_t give_up = monotonic_ns() + 3'000'000'000;
  while (!ForkGate::process().allows(monotonic_ns()) && monotonic_ns() < give_up) {
  }
  CHECK(ForkGate::process().allows(monotonic_ns()));
  std::atomic<int> wrong{0};
#pragma omp parallel num_threads(2)
  {
    std::vector<int> runs(100, 0);  // this outer thread's own count of each item
    parallel_for(100, 4, [&](int64_t i, int) { ++runs[static_cast<size_t>(i)]; });
    for (int r : runs) {
      if (r != 1) wrong.fetch_add(1);
    }
  }
  CHECK_EQ(wrong.load(), 0);
}

TEST(scheduled_finish_follows_shares_then_leftovers) {
  CHECK_EQ(scheduled_finish({1, 1, 1, 1}, 2), 2.0);
  CHECK_EQ(scheduled_finish({1, 2, 3}, 1), 6.0);
  // Shares [3, 1] and [1, 1]: the second thread is free at 2 and takes the 1 left in the
  // first share, while the first thread is still on its 3.
  CHECK_EQ(scheduled_finish({3, 1, 1, 1}, 2), 3.0);
  // Shares [4, 4] and [1, 1]: the second thread takes the second 4 at 2.
  CHECK_EQ(scheduled_finish({4, 4, 1, 1}, 2), 6.0);
  // Shares [2, 2] and [1, 1]: both are free at 2, and the first takes its own second 2.
  CHECK_EQ(scheduled_finish({2, 2, 1, 1}, 2), 4.0);
  CHECK_EQ(scheduled_finish({}, 2), 0.0);
  CHECK_EQ(scheduled_finish({5}, 3), 5.0);
}

TEST(channel_chunk_splits_channels_only_for_several_threads) {
  // A 7x7 output (one pixel tile) of 512 channels: one task on one thread, several on two.
  CHECK_EQ(channel_chunk(1, 1, 512, 32), int64_t{512});
  CHECK_EQ(channel_chunk(1, 2, 512, 32), int64_t{64});
  CHECK_EQ(channel_chunk(8, 2, 512, 32), int64_t{512});  // enough pixel tiles already
  CHECK_EQ(channel_chunk(1, 2, 512, 0), int64_t{512});   // a core that cannot split
}

TEST(balanced_tile_pixels_gives_each_thread_as_many_tiles) {
  // 784 pixels in 96s: 9 tiles, 5 and 4 on 2 threads; 10 of 79 instead.
  CHECK_EQ(balanced_tile_pixels(1, 784, 2, 96), int64_t{79});
  CHECK_EQ(balanced_tile_pixels(1, 784, 1, 96), int64_t{88});  // 9 even tiles on one
  CHECK_EQ(balanced_tile_pixels(1, 196, 2, 96), int64_t{49});  // 3 tiles -> 4
  CHECK_EQ(balanced_tile_pixels(1, 49, 2, 96), int64_t{49});   // one tile: channels split it
  CHECK_EQ(balanced_tile_pixels(3, 784, 2, 96), int64_t{79});  // 27 tiles -> 28
  CHECK_EQ(balanced_tile_pixels(2, 784, 2, 96), int64_t{88});  // 18 tiles already even
  for (int threads = 1; threads <= 5; ++threads) {
    for (int64_t images = 1; images <= 3; ++images) {
      for (int64_t pixels = 1; pixels <= 3200; pixels += 7) {
        const int64_t tile = balanced_tile_pixels(images, pixels, threads, 96);
        const int64_t tiles = (pixels + tile - 1) / tile;
        CHECK(tile >= 1 && tile <= 96);
        CHECK(tiles == 1 || images * tiles % threads == 0);
        CHECK(tiles <= (pixels + 95) / 96 + threads - 1);
      }
    }
  }
}

TEST(split_rows_and_channels_evens_out_the_threads_work) {
  // One thread, many tiles already, or more threads than the model takes: the largest tiles
  // and channel_chunk()'s split.
  const RowChannelSplit one = split_rows_and_channels(1, 14, 6, 256, 64, 1);
  CHECK_EQ(one.rows_per_tile, int64_t{6});
  CHECK_EQ(one.channels_per_task, channel_chunk(3, 1, 256, 64));
  const RowChannelSplit many = split_rows_and_channels(8, 56, 6, 64, 64, 2);
  CHECK_EQ(many.rows_per_tile, int64_t{6});
  CHECK_EQ(many.channels_per_task, int64_t{64});
  const RowChannelSplit crowd = split_rows_and_channels(1, 14, 6, 256, 64, 128);
  CHECK_EQ(crowd.rows_per_tile, int64_t{6});
  CHECK_EQ(crowd.channels_per_task, channel_chunk(3, 128, 256, 64));
  // Channels that cannot be split (block 0): rows only.
  const RowChannelSplit unsplit = split_rows_and_channels(1, 14, 6, 256, 0, 2);
  CHECK_EQ(unsplit.channels_per_task, int64_t{256});
  CHECK_EQ(unsplit.rows_per_tile >= 3 && unsplit.rows_per_tile <= 6 * kMaxTileGrowth, true);
  for (int threads : {2, 3, 4}) {
    for (int64_t rows : {7, 14, 28, 56}) {
      for (int64_t channels : {64, 128, 200, 512}) {
        const RowChannelSplit s = split_rows_and_channels(1, rows, 6, channels, 64, threads);
        const std::string where = std::to_string(rows) + " rows, " + std::to_string(channels) +
                                  " channels, " + std::to_string(threads) + " threads";
        CHECK_EQ_CTX(
            s.rows_per_tile >= 3 && s.rows_per_tile <= std::min<int64_t>(6 * kMaxTileGrowth, rows),
            true, where);
        CHECK_EQ_CTX(s.channels_per_task % 64 == 0 || s.channels_per_task == channels, true, where);
        // Its tasks' finish on the model is within a task of the ideal.
        std::vector<double> costs;
        double total = 0.0, largest = 0.0;
        for (int64_t r0 = 0; r0 < rows; r0 += s.rows_per_tile) {
          for (int64_t c0 = 0; c0 < channels; c0 += s.channels_per_task) {
            const double cost = static_cast<double>(std::min(s.rows_per_tile, rows - r0) *
                                                    std::min(s.channels_per_task, channels - c0));
            costs.push_back(cost);
            total += cost;
            largest = std::max(largest, cost);
          }
        }
        CHECK_EQ_CTX(scheduled_finish(costs, threads) <= total / threads + largest, true, where);
      }
    }
  }
  // A row's setup, paid again by every channel chunk of a tile, keeps a tile's channels in
  // one task where it outweighs the balance that smaller tasks give: 28 rows of 128 channels
  // (the stride-2 56x56 layer's output) on 2 threads.
  const RowChannelSplit free_setup = split_rows_and_channels(1, 28, 6, 128, 64, 2);
  CHECK_EQ(free_setup.channels_per_task, int64_t{64});
  // In whole tiles, the two threads take 14 rows each: tiles of 7, taller than the 6 asked
  // for (tiles of 3 gave one thread 15 rows, the other 13; the 28x28x128 layer took 1.77x
  // less time on 2 threads than on one, now 1.91x).
  const RowChannelSplit costly_setup = split_rows_and_channels(1, 28, 6, 128, 64, 2, 17.4);
  CHECK_EQ(costly_setup.channels_per_task, int64_t{128});
  CHECK_EQ(costly_setup.rows_per_tile, int64_t{7});
  // A 7x7x512 3x3 layer's output (a row's setup of 30000 / (9 * 512) channels, as
  // binary_conv2d.cc weighs it) in one tile of its 7 rows: a few equal tasks by channels, not
  // 16 small ones (2 tiles of 64-channel chunks, chosen while half the largest task was added
  // to the score, ran 4% slower).
  const RowChannelSplit few = split_rows_and_channels(1, 7, 7, 512, 64, 2, 30000.0 / 4608);
  CHECK_EQ(few.rows_per_tile, int64_t{7});
  CHECK_EQ(few.channels_per_task >= 128, true);
  // 14 rows, 256 channels on 2 threads: tiles of 6 rows (6, 6, 2) in two 128-channel chunks
  // finish at 16 (x 6 x 128) against an ideal 14; the split does better.
  const RowChannelSplit s = split_rows_and_channels(1, 14, 6, 256, 64, 2);
  std::vector<double> costs;
  for (int64_t r0 = 0; r0 < 14; r0 += s.rows_per_tile) {
    for (int64_t c0 = 0; c0 < 256; c0 += s.channels_per_task) {
      costs.push_back(static_cast<double>(std::min(s.rows_per_tile, 14 - r0) *
                                          std::min(s.channels_per_task, 256 - c0)));
    }
  }
  CHECK_EQ(scheduled_finish(costs, 2) < 16.0 * 128, true);
}

}  // namespace
}  // namespace xnorinfer

TEST_MAIN()
