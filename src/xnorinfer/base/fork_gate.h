// Whether a parallel loop should fork a thread team now. OpenMP's join waits for every thread
// of the team, so when another process holds a core, a worker that waits for a scheduler slice
// there stalls the whole op (measured: a 5 ms network took up to 138 ms on 2 threads next to a
// busy-looping process). After a fork whose slowest thread started more than kLateStart after
// the fork, loops run on the calling thread alone for a backoff period; the next fork is a
// probe, and the backoff doubles while probes find the core busy. Results do not depend on the
// thread count, so this changes only speed.
#pragma once

#include <atomic>
#include <cstdint>

namespace xnorinfer {

class ForkGate {
 public:
  static constexpr int64_t kLateStartNs = 1'000'000;  // a spinning worker starts in µs
  // Short at first: a core busy for a moment (another library's pool spinning down) costs
  // little; a core that stays busy doubles it quickly.
  static constexpr int64_t kFirstBackoffNs = 5'000'000;    // 5 ms
  static constexpr int64_t kMaxBackoffNs = 2'000'000'000;  // 2 s

  // Whether to fork at time `now_ns`.
  bool allows(int64_t now_ns) const {
    return now_ns >= closed_until_.load(std::memory_order_relaxed);
  }

  // After a fork at `now_ns` whose slowest thread started `latest_start_ns` after it.
  void record(int64_t now_ns, int64_t latest_start_ns);

  // The process-wide gate parallel_for uses.
  static ForkGate& process();

 private:
  std::atomic<int64_t> closed_until_{0};
  std::atomic<int64_t> backoff_ns_{kFirstBackoffNs};
};

// Monotonic nanoseconds.
int64_t monotonic_ns();

}  // namespace xnorinfer
