// Running a batch one sample at a time, in part or in whole (Session's BatchMode).
//
// A batch may run so when every value that depends on the inputs is, at batch n, its batch-1
// shape with the first axis n times longer, so sample i is the i-th contiguous part of it; and
// no op reads across the first axis (Concat, Softmax or LogSoftmax over axis 0, a Transpose
// that moves it).
#pragma once

#include <cstdint>
#include <vector>

#include "xnorinfer/graph/graph.h"
#include "xnorinfer/graph/plan.h"

namespace xnorinfer {

// `one` and `batch` are plans of the same graph for batch 1 and batch n.
bool batch_separable(const std::vector<NodeDef>& nodes, const Plan& one, const Plan& batch,
                     int64_t n);

// From each node's seconds in a whole-batch run and summed over a one-sample-at-a-time run:
// the split k (nodes before k one sample at a time, the rest on the whole batch) that those
// times make fastest, when it lies strictly between the two (0 < k < nodes) and beats both;
// else -1 (also when the two lists do not have one entry per node).
int fastest_split(const std::vector<double>& whole, const std::vector<double>& per_sample,
                  int nodes);

}  // namespace xnorinfer
