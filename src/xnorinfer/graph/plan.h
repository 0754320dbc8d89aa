// A plan: every value's shape and arena offset for one set of input shapes, made once and
// reused by every run with those shapes.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "xnorinfer/base/tensor.h"

namespace xnorinfer {

struct OpState;

struct Plan {
  // Per value slot (see Session): its info and, for arena values, its byte offset.
  std::vector<TensorInfo> infos;
  std::vector<int64_t> offsets;  // -1 for constants
  // Per graph input: read in the caller's buffer (every reader reads it exactly, see
  // Op::reads_exactly_its_inputs) instead of copied into the arena.
  std::vector<char> input_in_caller_buffer;
  // Per graph output: written by its node straight into the caller's buffer (the node writes
  // exactly its outputs, see Op::writes_exactly_its_outputs) instead of copied there.
  std::vector<char> output_in_caller_buffer;
  int64_t arena_bytes = 0;
  size_t scratch_per_thread = 0;                          // a multiple of 64
  size_t shared_scratch = 0;                              // a multiple of 64
  std::vector<std::shared_ptr<const OpState>> op_states;  // per node: its prepare()
};

// Offsets for values live over [first_use, last_use] (node indices), so that values whose
// lifetimes overlap never share bytes. Greedy: largest first, lowest offset that fits.
struct LiveRange {
  int64_t bytes;
  int first_use;
  int last_use;
};
std::vector<int64_t> assign_offsets(const std::vector<LiveRange>& ranges, int64_t* total_bytes);

}  // namespace xnorinfer
