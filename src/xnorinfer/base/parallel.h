// Parallel loops over independent work items (output tiles). Work is never split inside a
// reduction, so results do not depend on the thread count. Items are handed out dynamically:
// on a shared machine a descheduled thread then delays only the item it holds, instead of a
// whole static share of the loop.
#pragma once

#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace xnorinfer {

// Calls fn(item, thread_index) for item in [0, count) on up to num_threads threads.
template <typename Fn>
void parallel_for(int64_t count, int num_threads, const Fn& fn) {
#ifdef _OPENMP
  if (num_threads > 1 && count > 1) {
#pragma omp parallel for num_threads(num_threads) schedule(dynamic)
    for (int64_t i = 0; i < count; ++i) fn(i, omp_get_thread_num());
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
