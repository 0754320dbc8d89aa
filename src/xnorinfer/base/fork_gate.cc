#include "xnorinfer/base/fork_gate.h"

#include <algorithm>
#include <chrono>

namespace xnorinfer {

void ForkGate::record(int64_t now_ns, int64_t latest_start_ns) {
  if (latest_start_ns <= kLateStartNs) {
    backoff_ns_.store(kFirstBackoffNs, std::memory_order_relaxed);
    return;
  }
  const int64_t backoff = backoff_ns_.load(std::memory_order_relaxed);
  closed_until_.store(now_ns + backoff, std::memory_order_relaxed);
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
