#include "xnorinfer/graph/batch_split.h"

#include <algorithm>

namespace xnorinfer {
namespace {

bool reads_across_batch(const NodeDef& node) {
  if (node.op == "Concat" || node.op == "Softmax" || node.op == "LogSoftmax") {
    return node.attrs.get_int("axis") == 0;
  }
  if (node.op == "Transpose") return node.attrs.get_ints("perm").at(0) != 0;
  return false;
}

}  // namespace

bool batch_separable(const std::vector<NodeDef>& nodes, const Plan& one, const Plan& batch,
                     int64_t n) {
  for (const NodeDef& node : nodes) {
    if (reads_across_batch(node)) return false;
  }
  for (size_t s = 0; s < one.infos.size(); ++s) {
    if (one.offsets[s] < 0) continue;  // a constant, or a value nothing computes
    const Shape& a = one.infos[s].shape;
    const Shape& b = batch.infos[s].shape;
    if (a.empty() || a.size() != b.size() || b[0] != n * a[0]) return false;
    for (size_t d = 1; d < a.size(); ++d) {
      if (a[d] != b[d]) return false;
    }
    // Sample i is then bytes [i, i + 1) * one's of the batch's value, packed bits included.
    if (batch.infos[s].storage_bytes() != n * one.infos[s].storage_bytes()) {
      return false;
    }
  }
  return true;
}

int fastest_split(const std::vector<double>& whole, const std::vector<double>& per_sample,
                  int nodes) {
  if (whole.size() != static_cast<size_t>(nodes) || per_sample.size() != whole.size()) return -1;
  double cost = 0;  // of split 0, the whole batch
  for (double s : whole) cost += s;
  const double whole_cost = cost;
  double best_cost = cost;
  int best = 0;
  for (int k = 1; k <= nodes; ++k) {
    cost += per_sample[k - 1] - whole[k - 1];  // now split k's
    if (cost < best_cost) best_cost = cost, best = k;
  }
  return best > 0 && best < nodes && best_cost < std::min(whole_cost, cost) ? best : -1;
}

}  // namespace xnorinfer
