#include "xnorinfer/graph/batch_split.h"

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
  }
  return true;
}

}  // namespace xnorinfer
