// Whether a batch may run one sample at a time (Session's per-sample batches): every value that
// depends on the inputs is, at batch n, its batch-1 shape with the first axis n times longer,
// so sample i is the i-th contiguous part of it; and no op reads across the first axis
// (Concat, Softmax or LogSoftmax over axis 0, a Transpose that moves it).
#pragma once

#include <cstdint>
#include <vector>

#include "xnorinfer/graph/graph.h"
#include "xnorinfer/graph/plan.h"

namespace xnorinfer {

// `one` and `batch` are plans of the same graph for batch 1 and batch n.
bool batch_separable(const std::vector<NodeDef>& nodes, const Plan& one, const Plan& batch,
                     int64_t n);

}  // namespace xnorinfer
