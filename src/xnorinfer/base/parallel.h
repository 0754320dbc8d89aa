// Parallel loops over independent work items (output tiles). Work is never split inside a
// reduction, so results do not depend on the thread count. Each thread starts on its own
// contiguous share of the items, the same share in every loop of the same size, so the ops of a
// network that tile the same pixels keep each pixel's rows in one core's cache from op to op;
// a thread that finishes its share takes what is left of the others' (from the front, item by
// item), so on a shared machine a descheduled thread delays only the item it holds. When a
// fork finds another process on a core, loops stay on the calling thread for a while
// (fork_gate.h) rather than wait for that core at each join.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

#include "xnorinfer/base/fork_gate.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace xnorinfer {

// One thread's share of a loop's items: [next, end), taken one at a time by whoever gets there;
// and when the thread of that index started (ns after the fork), written by that thread alone,
// on the cache line it takes its items from anyway.
struct alignas(64) WorkShare {
  std::atomic<int64_t> next{0};
  int64_t end = 0;
  int64_t started = 0;
};

// Contiguous shares of `count` items for the team's threads (no allocation up to 16 threads).
class WorkShares {
 public:
  void init(int64_t count, int team) {
    if (team > kInline) heap_.reset(new WorkShare[team]);
    WorkShare* shares = heap_ ? heap_.get() : inline_;
    for (int t = 0; t < team; ++t) {
      shares[t].next.store(count * t / team, std::memory_order_relaxed);
      shares[t].end = count * (t + 1) / team;
      shares[t].started = 0;
    }
  }
  WorkShare& of(int thread) { return heap_ ? heap_[thread] : inline_[thread]; }

  // The latest start among the first `team` shares' threads.
  int64_t latest_start(int team) {
    int64_t latest = 0;
    for (int t = 0; t < team; ++t) latest = std::max(latest, of(t).started);
    return latest;
  }

 private:
  static constexpr int kInline = 16;
  WorkShare inline_[kInline];
  std::unique_ptr<WorkShare[]> heap_;
};

// The lowest item a parallel_for reports (a failure, say), from any thread: no exception may
// leave a parallel region, so a loop notes what went wrong and its caller throws after it.
class LowestItem {
 public:
  explicit LowestItem(int64_t none) : none_(none), lowest_(none) {}
  void report(int64_t item) {
    int64_t seen = lowest_.load(std::memory_order_relaxed);
    while (item < seen && !lowest_.compare_exchange_weak(seen, item)) {
    }
  }
  bool any() const { return lowest_.load() < none_; }
  int64_t item() const { return lowest_.load(); }

 private:
  int64_t none_;
  std::atomic<int64_t> lowest_;
};

// Calls fn(item, thread_index) for item in [0, count) on up to num_threads threads.
template <typename Fn>
void parallel_for(int64_t count, int num_threads, const Fn& fn) {
#ifdef _OPENMP
  ForkGate& gate = ForkGate::process();
  if (num_threads > 1 && count > 1 && gate.allows(monotonic_ns())) {
    const int64_t fork = monotonic_ns();
    // Shares for the threads asked for, made before the fork (which publishes them): a team
    // OpenMP makes smaller still visits every share, since each thread goes through them all.
    WorkShares shares;
    shares.init(count, num_threads);
#pragma omp parallel num_threads(num_threads)
    {
      const int thread = omp_get_thread_num();
      shares.of(thread).started = monotonic_ns() - fork;  // read after the join
      for (int k = 0; k < num_threads; ++k) {
        WorkShare& share = shares.of((thread + k) % num_threads);
        for (int64_t i; (i = share.next.fetch_add(1, std::memory_order_relaxed)) < share.end;) {
          fn(i, thread);
        }
      }
    }
    gate.record(fork, monotonic_ns(), shares.latest_start(num_threads));
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
