// Parallel loops over independent work items (output tiles). Work is never split inside a
// reduction, so results do not depend on the thread count. Items are handed out dynamically:
// on a shared machine a descheduled thread then delays only the item it holds, instead of a
// whole static share of the loop; and when a fork finds another process on a core, loops stay
// on the calling thread for a while (fork_gate.h) rather than wait for that core at each join.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "xnorinfer/base/fork_gate.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace xnorinfer {

// Calls fn(item, thread_index) for item in [0, count) on up to num_threads threads.
template <typename Fn>
void parallel_for(int64_t count, int num_threads, const Fn& fn) {
#ifdef _OPENMP
  ForkGate& gate = ForkGate::process();
  if (num_threads > 1 && count > 1 && gate.allows(monotonic_ns())) {
    const int64_t fork = monotonic_ns();
    std::atomic<int64_t> latest_start{0};
#pragma omp parallel num_threads(num_threads)
    {
      const int64_t start = monotonic_ns() - fork;
      int64_t seen = latest_start.load(std::memory_order_relaxed);
      while (start > seen && !latest_start.compare_exchange_weak(seen, start)) {
      }
#pragma omp for schedule(dynamic)
      for (int64_t i = 0; i < count; ++i) fn(i, omp_get_thread_num());
    }
    gate.record(monotonic_ns(), latest_start.load());
    return;
  }
#endif
  (void)num_threads;
  for (int64_t i = 0; i < count; ++i) fn(i, 0);
}

inline bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

}  // namespace xnorinfer
