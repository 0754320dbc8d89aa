// Session: a graph's ops created once for an ISA, plans cached per input shape, and workspaces
// (arena + tensor views) pooled so that concurrent runs never share scratch memory and a run
// with an already planned shape allocates no working memory (a batch run one sample at a time
// keeps a few small lists of its own). Safe to call run() from several threads at once.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "xnorinfer/base/aligned_buffer.h"
#include "xnorinfer/cpu/isa.h"
#include "xnorinfer/graph/graph.h"
#include "xnorinfer/graph/plan.h"

namespace xnorinfer {

// How a batch of n > 1 runs on a graph whose ops compute each sample from that sample alone
// (graph/batch_split.h): whole, or one sample at a time, whose values then stay in cache
// (faster for a network whose activations outweigh its weights, such as a ResNet's early
// layers; slower for layers whose weights are reused across the batch, such as its last
// stage or AlexNet's dense layers), or split: the leading nodes one sample at a time, the
// rest on the whole batch. With several threads, samples run side by side, one per thread.
// kAuto times the whole batch and one sample at a time on the first runs of each batch
// shape, tries the split their per-node times point to, and keeps the fastest. Results are
// identical.
enum class BatchMode { kAuto, kWhole, kPerSample, kSplit };

// BatchMode::kAuto has settled on one way for a batch shape after this many runs of it.
constexpr int kAutoTrialRuns = 10;

struct SessionOptions {
  int num_threads = 0;  // 0: all the cores OpenMP reports
  std::string isa;      // "" : $XNORINFER_ISA, else the best available
  BatchMode batch_mode = BatchMode::kAuto;
  int split_node = 0;  // kSplit: the nodes before this one run one sample at a time
};

// Parses "auto", "whole" or "per_sample"; throws InvalidArgument otherwise.
BatchMode parse_batch_mode(const std::string& name);

// The output shapes a model file declares (`declared`, -1 for a dynamic extent, which matches
// any) must be those its graph computes at batch 1 (`planned`, from Session::output_shapes).
// Throws InvalidModel naming the first output that differs.
void check_declared_outputs(const std::vector<std::string>& names,
                            const std::vector<Shape>& declared, const std::vector<Shape>& planned);

class Session {
 public:
  Session(std::shared_ptr<const Graph> graph, const SessionOptions& options);
  ~Session();

  // Output shapes for these input shapes (the plan is made and cached). Throws InvalidArgument
  // when an input shape does not match the graph, InvalidModel when the graph cannot run it.
  std::vector<Shape> output_shapes(const std::vector<Shape>& input_shapes);

  // Runs the graph. inputs[i] points to the float32 data of graph input i with
  // input_shapes[i]; outputs[j] must hold the float32 output j of the shapes output_shapes()
  // returned. Takes no lock while the ops run. With `node_seconds`, it receives each node's
  // wall time (profiling; a clock read per node); nodes run one sample at a time sum their
  // samples' times, divided by the threads that ran samples side by side.
  void run(const std::vector<Shape>& input_shapes, const std::vector<const float*>& inputs,
           const std::vector<float*>& outputs, std::vector<double>* node_seconds = nullptr);

  // Whether a batch of these input shapes may run one sample at a time (BatchMode).
  bool batch_separable(const std::vector<Shape>& input_shapes);

  // How a batch of these input shapes runs now: the number of leading nodes run one sample at
  // a time (0: the whole batch at once; all nodes: one sample at a time), or -1 while kAuto is
  // still timing the ways.
  int batch_split_node(const std::vector<Shape>& input_shapes);

  Isa isa() const { return isa_; }
  int num_threads() const { return num_threads_; }
  const Graph& graph() const { return *graph_; }

 private:
  struct CachedPlan;
  struct Workspace;
  CachedPlan& plan_for(const std::vector<Shape>& input_shapes);
  // The batch-1 plan that runs a batch one sample at a time, or nullptr when it may not.
  CachedPlan* per_sample_plan(const std::vector<Shape>& input_shapes, const Plan& batch);
  // The split (batch_split_node) a batch of `cached` takes without trials: the mode's, or
  // kAuto's decision (-1 while it is trying the ways). Called under mutex_.
  int settled_split(const CachedPlan& cached) const;
  // The split this run of `cached` takes; `timed_way` gets the way (AutoTrials in session.cc)
  // when the run is one of kAuto's timed trials, else -1. Called under mutex_.
  int choose_split(CachedPlan& cached, int* timed_way);
  // Records a timed trial's seconds (and per-node seconds). Called under mutex_.
  void record_trial(CachedPlan& cached, int way, double seconds,
                    const std::vector<double>& node_seconds);
  // The values nodes from `split` on read, and the graph's outputs, that the samples' runs
  // compute (gathered into the whole batch's workspace) or that are graph inputs (copied).
  void values_after_split(const Plan& whole, int split, std::vector<int>* gathered,
                          std::vector<int>* copied) const;
  // A batch with its first `split` nodes run one sample at a time (0 <= split <= nodes).
  void run_split(CachedPlan& cached, int split, const std::vector<Shape>& input_shapes,
                 const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                 std::vector<double>* node_seconds);
  void run_plan(CachedPlan& cached, const std::vector<const float*>& inputs,
                const std::vector<float*>& outputs, std::vector<double>* node_seconds);
  // Runs nodes [begin, end) of `plan` on `ws` with up to `num_threads` threads in each op,
  // adding node i's seconds to (*node_seconds)[i] when asked (grown to hold it).
  void run_nodes(const Plan& plan, Workspace& ws, int begin, int end, int num_threads,
                 std::vector<double>* node_seconds) const;
  // The graph inputs' sample `sample` (the whole of them for a whole plan's 0) into `ws`
  // (bind_input), and the graph outputs from `ws` into sample `sample` of `outputs`, on up to
  // `num_threads`.
  void bind_inputs(const Plan& plan, const std::vector<const float*>& inputs, int64_t sample,
                   Workspace& ws, int num_threads) const;
  void copy_outputs(const Workspace& ws, int64_t sample, const std::vector<float*>& outputs,
                    int num_threads) const;
  // Points the graph outputs the plan writes in the caller's buffer at sample `sample` of
  // `outputs`, or with nullptr back at their arena bytes (a pooled workspace keeps the last
  // run's pointers until then).
  void bind_outputs(const Plan& plan, const std::vector<float*>* outputs, int64_t sample,
                    Workspace& ws) const;
  // Whether `slot` is a graph output that its node writes exactly (Op::writes_exactly_its_outputs).
  bool written_exactly(int slot) const;
  // Throws InvalidArgument when an output buffer overlaps an input buffer or another output
  // buffer: inputs may be read in place (bind_input) while outputs are written in place
  // (bind_outputs).
  void check_buffers_apart(const Plan& plan, const std::vector<const float*>& inputs,
                           const std::vector<float*>& outputs) const;
  // Graph input k's `data` into `ws`: pointed at where the plan reads it in the caller's buffer,
  // else copied into its arena bytes.
  void bind_input(const Plan& plan, int k, const void* data, Workspace& ws, int num_threads) const;
  std::unique_ptr<Workspace> take_workspace(CachedPlan& cached);
  void return_workspace(CachedPlan& cached, std::unique_ptr<Workspace> ws);
  std::unique_ptr<Workspace> make_workspace(const Plan& plan) const;
  std::unique_ptr<CachedPlan> make_plan(const std::vector<Shape>& input_shapes) const;
  // Per value slot, the slot whose bytes it takes: its own, or for an output computed in place
  // (Op::overwritable_input) the owner of the input it overwrites. `last`: each value's last
  // reading node + 1.
  std::vector<int> in_place_owners(const Plan& plan, const std::vector<int>& last) const;

  std::shared_ptr<const Graph> graph_;
  Isa isa_;
  int num_threads_;
  BatchMode batch_mode_;
  int split_node_;
  std::vector<std::unique_ptr<Op>> ops_;
  // Value slots: graph inputs, then constants and node outputs in order of appearance.
  std::map<std::string, int> slot_of_;
  std::vector<const Tensor*> constant_of_slot_;  // nullptr for non-constants
  std::vector<std::vector<int>> node_inputs_;    // slot per input, -1 when absent
  std::vector<std::vector<int>> node_outputs_;
  std::vector<int> producer_of_slot_;  // the node that computes a value, -1 for the rest
  std::vector<int> output_slots_;

  std::mutex mutex_;
  std::map<std::vector<Shape>, std::unique_ptr<CachedPlan>> plans_;
};

}  // namespace xnorinfer
