#include "xnorinfer/graph/plan.h"

#include <algorithm>
#include <numeric>

#include "xnorinfer/base/bits.h"

namespace xnorinfer {

std::vector<int64_t> assign_offsets(const std::vector<LiveRange>& ranges, int64_t* total_bytes) {
  constexpr int64_t kAlign = 64;
  std::vector<size_t> order(ranges.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return ranges[a].bytes > ranges[b].bytes; });
  std::vector<int64_t> offsets(ranges.size(), -1);
  std::vector<size_t> placed;
  *total_bytes = 0;
  for (size_t v : order) {
    // Room for the over-read slack kernels may use, then aligned.
    const int64_t size = round_up(ranges[v].bytes + static_cast<int64_t>(kExtraBytes), kAlign);
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t p : placed) {
      const bool overlap =
          ranges[p].first_use <= ranges[v].last_use && ranges[v].first_use <= ranges[p].last_use;
      if (overlap) {
        busy.emplace_back(offsets[p], offsets[p] + round_up(ranges[p].bytes + kExtraBytes, kAlign));
      }
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + size <= begin) break;
      offset = std::max(offset, end);
    }
    offsets[v] = offset;
    placed.push_back(v);
    *total_bytes = std::max(*total_bytes, offset + size);
  }
  return offsets;
}

}  // namespace xnorinfer
