// parallel_for: every item runs exactly once, on a thread index below the team size, whatever
// the item count and thread count (each thread's share, then the others' leftovers).
#include "xnorinfer/base/parallel.h"

#include <atomic>
#include <string>
#include <vector>

#include "check.h"

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

}  // namespace
}  // namespace xnorinfer

TEST_MAIN()
