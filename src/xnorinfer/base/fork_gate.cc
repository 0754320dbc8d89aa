#include "xnorinfer/base/fork_gate.h"

#include <algorithm>
#include <chrono>

namespace xnorinfer {

void ForkGate::record(int64_t fork_ns, int64_t end_ns, int64_t latest_start_ns) {
  const bool cold = fork_ns - last_end_ns_.exchange(end_ns, std::memory_order_relaxed) > kColdGapNs;
  if (latest_start_ns <= kLateStartNs) {
    backoff_ns_.store(kFirstBackoffNs, std::memory_order_relaxed);
    return;
  }
  if (cold) return;
  const int64_t backoff = backoff_ns_.load(std::memory_order_relaxed);
  closed_until_.store(end_ns + backoff, std::memory_order_relaxed);
  backoff_ns_.store(std::min(2 * backoff, kMaxBackoffNs), std::memory_order_relaxed);
}

ForkGate& ForkGate::process() {
  static ForkGate gate;
  return gate;
}

int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace xnorinfer
