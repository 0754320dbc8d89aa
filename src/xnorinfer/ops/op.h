// The op interface: create (validate attributes, pack constant weights once) -> infer (output
// shapes for given input shapes) -> run (no allocation, no validation beyond XI_DCHECK).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xnorinfer/base/tensor.h"
#include "xnorinfer/cpu/isa.h"
#include "xnorinfer/graph/attrs.h"

namespace xnorinfer {

struct NodeDef {
  std::string name;
  std::string op;
  std::vector<std::string> inputs;  // "" marks an absent optional input
  std::vector<std::string> outputs;
  AttrMap attrs;
};

// What an op factory sees: the node, its constant inputs, the ISA ceiling to select for and
// the session's threads (for ops that plan their split of the work; results never depend on it).
struct OpArgs {
  const NodeDef& node;
  std::vector<const Tensor*> constants;  // per input: the constant, or nullptr
  Isa isa;
  int num_threads = 1;
};

// What an op works out once per set of input shapes rather than at every run (which taps of
// each tile fall inside the image, say). Plans are shared by concurrent runs: read-only.
struct OpState {
  virtual ~OpState() = default;
};

struct RunContext {
  int num_threads = 1;
  uint8_t* scratch = nullptr;         // num_threads * scratch_per_thread bytes, 64-byte aligned
  size_t scratch_per_thread = 0;      // a multiple of 64
  uint8_t* shared_scratch = nullptr;  // one buffer all threads of an op share, 64-byte aligned
  const OpState* state = nullptr;     // what the op's prepare() returned for these shapes

  uint8_t* thread_scratch(int thread) const { return scratch + thread * scratch_per_thread; }
};

class Op {
 public:
  virtual ~Op() = default;

  // Output infos from input infos (nullptr for an absent optional input). Throws InvalidModel
  // or InvalidArgument naming the node when the shapes do not fit.
  virtual std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& inputs) const = 0;

  // Scratch bytes one thread needs for these input infos.
  virtual size_t scratch_bytes(const std::vector<const TensorInfo*>& inputs) const {
    (void)inputs;
    return 0;
  }

  // Scratch bytes the op's threads share (an intermediate every tile reads) for these infos.
  virtual size_t shared_scratch_bytes(const std::vector<const TensorInfo*>& inputs) const {
    (void)inputs;
    return 0;
  }

  // The op's state for these input infos (see OpState); nullptr when it keeps none.
  virtual std::shared_ptr<const OpState> prepare(
      const std::vector<const TensorInfo*>& inputs) const {
    (void)inputs;
    return nullptr;
  }

  // The input whose bytes output 0 may take over (computed in place): one the op reads element
  // by element, each element just before it writes the same element of output 0, which has its
  // dtype and shape. -1 for none. The session shares the bytes only when this node is the
  // value's last reader and reads it through no other input.
  virtual int overwritable_input() const { return -1; }

  // True when run() reads no byte of its inputs outside their elements (no over-read slack)
  // and takes them at any float alignment: the session may then hand it a graph input in the
  // caller's own buffer rather than a copy in its arena.
  virtual bool reads_exactly_its_inputs() const { return false; }

  // True when run() writes no byte of its outputs outside their elements (no slack, no
  // scratch use of their bytes) and takes them at any float alignment: the session may then
  // hand it a graph output in the caller's own buffer rather than copy it there afterwards.
  virtual bool writes_exactly_its_outputs() const { return false; }

  virtual void run(const std::vector<const Tensor*>& inputs, const std::vector<Tensor*>& outputs,
                   const RunContext& ctx) const = 0;
};

using OpFactory = std::unique_ptr<Op> (*)(const OpArgs& args);

// The factory for an op name; throws InvalidModel for an unknown op.
OpFactory find_op(const std::string& op);

}  // namespace xnorinfer
