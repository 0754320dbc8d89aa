// Whether a parallel loop should fork a thread team now. OpenMP's join waits for every thread
// of the team, so when another process holds a core, a worker that waits for a scheduler slice
// there stalls the whole op (measured: a 5 ms network took up to 138 ms on 2 threads next to a
// busy-looping process). After a fork whose slowest thread started more than kLateStart after
// the fork, loops run on the calling thread alone for a backoff period; the next fork is a
// probe, and the backoff doubles while probes find the core busy. Results do not depend on the
// thread count, so this changes only speed.
// A fork more than kColdGapNs after the previous one finds its workers asleep, and on a virtual
// machine their idle vCPUs descheduled: on the 2-vCPU development VM a worker idle for 20 ms
// or more started 1.8-3.8 ms late with the other core idle (0.1 ms after 10 ms, 7 µs after
// 5 ms). Such a late start says nothing of a busy core, and the workers spin again after that
// fork, so it leaves the gate as it is; the next fork tells.
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
  static constexpr int64_t kColdGapNs = 10'000'000;        // 10 ms

  // Whether to fork at time `now_ns`.
  bool allows(int64_t now_ns) const {
    return now_ns >= closed_until_.load(std::memory_order_relaxed);
  }

  // After a fork at `fork_ns`, ended at `end_ns`, whose slowest thread started
  // `latest_start_ns` after it.
  void record(int64_t fork_ns, int64_t end_ns, int64_t latest_start_ns);

  // The process-wide gate parallel_for uses.
  static ForkGate& process();

 private:
  std::atomic<int64_t> closed_until_{0};
  std::atomic<int64_t> backoff_ns_{kFirstBackoffNs};
  std::atomic<int64_t> last_end_ns_{INT64_MIN / 2};  // no fork yet: the first one is cold
};

// Monotonic nanoseconds.
int64_t monotonic_ns();

}  // namespace xnorinfer
