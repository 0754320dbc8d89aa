#include "xnorinfer/session.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <utility>

#include "xnorinfer/base/errors.h"
#include "xnorinfer/base/parallel.h"
#include "xnorinfer/graph/batch_split.h"
#include "xnorinfer/graph/limits.h"

namespace xnorinfer {

// One run's working memory: the arena and every value's tensor view into it, built once and
// pooled, so a run with a planned shape allocates no working memory.
struct Session::Workspace {
  AlignedBuffer arena;
  std::vector<Tensor> tensors;                          // per value slot
  std::vector<std::vector<const Tensor*>> node_inputs;  // per node, nullptr for absent inputs
  std::vector<std::vector<Tensor*>> node_outputs;
};

// BatchMode::kAuto's trials of one batch shape (guarded by Session::mutex_). Runs 0 to 5 go
// whole, one sample at a time, whole, ...: 0 and 1 warm up, 2 to 5 are timed, node by node
// too. Those node times name the split that would have been fastest (each node run the way it
// ran faster); when that split is neither extreme, runs 6 to 8 try it (6 warms up). Later
// runs take the way with the least mean time.
struct AutoTrials {
  static constexpr int kWhole = 0, kPerSample = 1, kCandidate = 2;  // the ways
  static constexpr int kBothRuns = 6, kCandidateRuns = 3;
  int runs = 0;
  int candidate = -1;             // the split runs 6 to 8 try, -1 for none
  int decided = -1;               // the split later runs take
  double seconds[3] = {0, 0, 0};  // per way, over its timed runs
  int timed[3] = {0, 0, 0};
  std::vector<double> node_seconds[2];  // whole and per sample: per node, over the timed runs
};
static_assert(AutoTrials::kBothRuns + AutoTrials::kCandidateRuns + 1 == kAutoTrialRuns);

struct Session::CachedPlan {
  Plan plan;
  std::vector<Shape> output_shapes;
  std::vector<std::unique_ptr<Workspace>> free_workspaces;  // guarded by Session::mutex_
  CachedPlan* per_sample = nullptr;  // the batch-1 plan, when the batch may be split
  AutoTrials trials;
};

BatchMode parse_batch_mode(const std::string& name) {
  if (name == "auto") return BatchMode::kAuto;
  if (name == "whole") return BatchMode::kWhole;
  if (name == "per_sample") return BatchMode::kPerSample;
  throw InvalidArgument("batch_mode must be auto, whole or per_sample, got '" + name + "'");
}

void check_declared_outputs(const std::vector<std::string>& names,
                            const std::vector<Shape>& declared, const std::vector<Shape>& planned) {
  for (size_t i = 0; i < names.size(); ++i) {
    bool fits = declared[i].size() == planned[i].size();
    for (size_t d = 0; fits && d < declared[i].size(); ++d) {
      fits = declared[i][d] == -1 || declared[i][d] == planned[i][d];
    }
    if (!fits) {
      throw InvalidModel("graph output '" + names[i] + "' is declared with shape " +
                         to_string(declared[i]) + " but computes " + to_string(planned[i]) +
                         " at batch 1");
    }
  }
}

namespace {

constexpr int kMaxThreads = 1024;

int default_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// A graph input or output of at least kSplitCopyBytes is copied by all the threads, each its
// contiguous share in chunks of kCopyChunkBytes: the ops that read the input (or wrote the
// output) split its rows the same way, so each core copies bytes its own cache holds or will
// read. Copied by one thread, a core's half of a 2-thread layer's output moved to the other
// core at every run, and that layer's stores then had to take the lines back.
constexpr int64_t kSplitCopyBytes = 256 * 1024;
constexpr int64_t kCopyChunkBytes = 16 * 1024;

void copy_bytes(void* dst, const void* src, int64_t bytes, int num_threads) {
  if (num_threads <= 1 || bytes < kSplitCopyBytes) {
    std::memcpy(dst, src, static_cast<size_t>(bytes));
    return;
  }
  parallel_for((bytes + kCopyChunkBytes - 1) / kCopyChunkBytes, num_threads, [&](int64_t c, int) {
    const int64_t begin = c * kCopyChunkBytes;
    std::memcpy(static_cast<char*>(dst) + begin, static_cast<const char*>(src) + begin,
                static_cast<size_t>(std::min(kCopyChunkBytes, bytes - begin)));
  });
}

}  // namespace

Session::Session(std::shared_ptr<const Graph> graph, const SessionOptions& options)
    : graph_(std::move(graph)),
      isa_(resolve_isa(options.isa)),
      batch_mode_(options.batch_mode),
      split_node_(options.split_node) {
  if (options.num_threads < 0 || options.num_threads > kMaxThreads) {
    throw InvalidArgument("num_threads must be in [0, " + std::to_string(kMaxThreads) + "], got " +
                          std::to_string(options.num_threads));
  }
  num_threads_ = options.num_threads > 0 ? options.num_threads : default_threads();

  auto add_slot = [&](const std::string& name) {
    auto it = slot_of_.find(name);
    if (it != slot_of_.end()) return it->second;
    const int slot = static_cast<int>(constant_of_slot_.size());
    slot_of_[name] = slot;
    constant_of_slot_.push_back(graph_->constant(name));
    return slot;
  };
  for (const GraphInput& in : graph_->inputs()) add_slot(in.name);
  for (const NodeDef& node : graph_->nodes()) {
    std::vector<int> ins;
    std::vector<const Tensor*> constants;
    for (const std::string& name : node.inputs) {
      ins.push_back(name.empty() ? -1 : add_slot(name));
      constants.push_back(name.empty() ? nullptr : graph_->constant(name));
    }
    std::vector<int> outs;
    for (const std::string& name : node.outputs) outs.push_back(name.empty() ? -1 : add_slot(name));
    node_inputs_.push_back(std::move(ins));
    node_outputs_.push_back(std::move(outs));
    ops_.push_back(find_op(node.op)(OpArgs{node, constants, isa_, num_threads_}));
  }
  const int nodes = static_cast<int>(ops_.size());
  if (batch_mode_ == BatchMode::kSplit && (split_node_ < 0 || split_node_ > nodes)) {
    throw InvalidArgument("split_node must be in [0, " + std::to_string(nodes) +
                          "] (the graph's nodes), got " + std::to_string(split_node_));
  }
  producer_of_slot_.assign(constant_of_slot_.size(), -1);
  for (int i = 0; i < nodes; ++i) {
    for (int s : node_outputs_[i]) {
      if (s >= 0) producer_of_slot_[s] = i;
    }
  }
  for (const std::string& name : graph_->outputs()) {
    auto it = slot_of_.find(name);
    if (it == slot_of_.end()) throw InvalidModel("graph output '" + name + "' is never produced");
    output_slots_.push_back(it->second);
  }
}

Session::~Session() = default;

std::unique_ptr<Session::CachedPlan> Session::make_plan(
    const std::vector<Shape>& input_shapes) const {
  const auto& inputs = graph_->inputs();
  if (input_shapes.size() != inputs.size()) {
    throw InvalidArgument("the model has " + std::to_string(inputs.size()) + " inputs, got " +
                          std::to_string(input_shapes.size()));
  }
  auto cached = std::make_unique<CachedPlan>();
  Plan& plan = cached->plan;
  const size_t slots = constant_of_slot_.size();
  plan.infos.assign(slots, TensorInfo{});
  plan.offsets.assign(slots, -1);
  std::vector<bool> known(slots, false);

  for (size_t i = 0; i < inputs.size(); ++i) {
    const Shape& want = inputs[i].shape;
    const Shape& got = input_shapes[i];
    bool fits = want.size() == got.size();
    for (size_t d = 0; fits && d < want.size(); ++d) {
      fits = got[d] >= 1 && got[d] <= kMaxExtent && (want[d] == -1 || want[d] == got[d]);
    }
    if (!fits) {
      throw InvalidArgument("input '" + inputs[i].name + "' has shape " + to_string(got) +
                            ", the model expects " + to_string(want) + " (-1 = any positive size)");
    }
    plan.infos[i] = {DType::kFloat32, got};
    known[i] = true;
  }
  for (size_t s = 0; s < slots; ++s) {
    if (constant_of_slot_[s]) {
      plan.infos[s] = constant_of_slot_[s]->info;
      known[s] = true;
    }
  }

  const int n_nodes = static_cast<int>(ops_.size());
  const int end_time = n_nodes + 1;
  std::vector<int> first(slots, 0), last(slots, 0);
  for (int i = 0; i < n_nodes; ++i) {
    std::vector<const TensorInfo*> in;
    for (int s : node_inputs_[i]) {
      in.push_back(s < 0 ? nullptr : &plan.infos[s]);
      if (s >= 0) last[s] = std::max(last[s], i + 1);
    }
    std::vector<TensorInfo> out = ops_[i]->infer(in);
    const NodeDef& node = graph_->nodes()[i];
    if (out.size() < node_outputs_[i].size()) {
      throw InvalidModel("node '" + node.name + "' (" + node.op + ") produces " +
                         std::to_string(out.size()) + " outputs, the graph names " +
                         std::to_string(node_outputs_[i].size()));
    }
    for (size_t k = 0; k < node_outputs_[i].size(); ++k) {
      const int s = node_outputs_[i][k];
      if (s < 0) continue;
      checked_storage_bytes(out[k], "output '" + node.outputs[k] + "' of node '" + node.name + "'");
      plan.infos[s] = out[k];
      known[s] = true;
      first[s] = last[s] = i + 1;
    }
    const size_t scratch = ops_[i]->scratch_bytes(in);
    plan.scratch_per_thread = std::max(plan.scratch_per_thread, (scratch + 63) / 64 * 64);
    const size_t shared = ops_[i]->shared_scratch_bytes(in);
    plan.shared_scratch = std::max(plan.shared_scratch, (shared + 63) / 64 * 64);
    plan.op_states.push_back(ops_[i]->prepare(in));
  }
  for (size_t j = 0; j < output_slots_.size(); ++j) {
    const int s = output_slots_[j];
    if (plan.infos[s].dtype != DType::kFloat32) {
      throw InvalidModel("graph output '" + graph_->outputs()[j] + "' must be float32");
    }
    last[s] = end_time;
    cached->output_shapes.push_back(plan.infos[s].shape);
  }

  // A value computed in place lives in its owner's bytes, whose range reaches its last use.
  const std::vector<int> owner = in_place_owners(plan, last);
  for (size_t s = 0; s < slots; ++s) last[owner[s]] = std::max(last[owner[s]], last[s]);
  std::vector<LiveRange> ranges;
  std::vector<int> arena_slots;
  for (size_t s = 0; s < slots; ++s) {
    if (constant_of_slot_[s] || !known[s] || owner[s] != static_cast<int>(s)) continue;
    ranges.push_back({plan.infos[s].storage_bytes(), first[s], last[s]});
    arena_slots.push_back(static_cast<int>(s));
  }
  const std::vector<int64_t> offsets = assign_offsets(ranges, &plan.arena_bytes);
  for (size_t k = 0; k < arena_slots.size(); ++k) plan.offsets[arena_slots[k]] = offsets[k];
  for (size_t s = 0; s < slots; ++s) {
    if (owner[s] != static_cast<int>(s)) plan.offsets[s] = plan.offsets[owner[s]];
  }
  // (A value computed in place over an input keeps its arena bytes: binding the input to the
  // caller's buffer leaves them, so an op writes there, never into the caller's array.)
  plan.input_in_caller_buffer.assign(inputs.size(), 1);
  for (int i = 0; i < n_nodes; ++i) {
    if (ops_[i]->reads_exactly_its_inputs()) continue;
    for (int s : node_inputs_[i]) {
      if (s >= 0 && s < static_cast<int>(inputs.size())) plan.input_in_caller_buffer[s] = 0;
    }
  }
  // A graph output that its node writes exactly goes straight into the caller's buffer
  // (bind_outputs). It keeps its arena bytes too: a batch's samples write it there when the
  // rest of the graph runs on the whole batch (run_split).
  plan.output_in_caller_buffer.assign(output_slots_.size(), 0);
  for (size_t j = 0; j < output_slots_.size(); ++j) {
    const int s = output_slots_[j];
    const bool listed_before =
        std::find(output_slots_.begin(), output_slots_.begin() + j, s) != output_slots_.begin() + j;
    plan.output_in_caller_buffer[j] = owner[s] == s && !listed_before && written_exactly(s);
  }

  const int64_t total = plan.arena_bytes + static_cast<int64_t>(plan.shared_scratch) +
                        static_cast<int64_t>(plan.scratch_per_thread) * num_threads_;
  const int64_t memory = physical_memory_bytes();
  if (memory > 0 && total > memory) {
    throw OutOfMemory("running with input shapes " + to_string(input_shapes[0]) + " needs " +
                      std::to_string(total >> 20) +
                      " MiB of working memory, more than this machine's " +
                      std::to_string(memory >> 20) + " MiB: use a smaller batch");
  }
  return cached;
}

std::vector<int> Session::in_place_owners(const Plan& plan, const std::vector<int>& last) const {
  std::vector<int> owner(plan.infos.size());
  std::iota(owner.begin(), owner.end(), 0);
  for (size_t i = 0; i < ops_.size(); ++i) {
    const int k = ops_[i]->overwritable_input();
    const std::vector<int>& ins = node_inputs_[i];
    if (k < 0 || k >= static_cast<int>(ins.size()) || node_outputs_[i].empty()) continue;
    const int r = ins[k], y = node_outputs_[i][0];
    if (r < 0 || y < 0 || constant_of_slot_[r] || written_exactly(y)) continue;
    const bool last_read = last[r] == static_cast<int>(i) + 1;  // graph outputs never are
    const bool read_once = std::count(ins.begin(), ins.end(), r) == 1;
    const TensorInfo &from = plan.infos[r], &to = plan.infos[y];
    if (last_read && read_once && from.dtype == to.dtype &&
        from.storage_bytes() == to.storage_bytes()) {
      owner[y] = owner[r];
    }
  }
  return owner;
}

bool Session::written_exactly(int slot) const {
  const int producer = producer_of_slot_[slot];
  return producer >= 0 && ops_[producer]->writes_exactly_its_outputs() &&
         std::find(output_slots_.begin(), output_slots_.end(), slot) != output_slots_.end();
}

Session::CachedPlan& Session::plan_for(const std::vector<Shape>& input_shapes) {
  auto it = plans_.find(input_shapes);
  if (it != plans_.end()) return *it->second;
  auto plan = make_plan(input_shapes);
  CachedPlan& cached = *plans_.emplace(input_shapes, std::move(plan)).first->second;
  if (batch_mode_ != BatchMode::kWhole)
    cached.per_sample = per_sample_plan(input_shapes, cached.plan);
  return cached;
}

bool Session::batch_separable(const std::vector<Shape>& input_shapes) {
  std::lock_guard<std::mutex> lock(mutex_);
  CachedPlan& cached = plan_for(input_shapes);
  return cached.per_sample != nullptr ||
         (batch_mode_ == BatchMode::kWhole && per_sample_plan(input_shapes, cached.plan));
}

Session::CachedPlan* Session::per_sample_plan(const std::vector<Shape>& input_shapes,
                                              const Plan& batch) {
  if (input_shapes.empty() || input_shapes[0].empty()) return nullptr;
  const int64_t n = input_shapes[0][0];
  std::vector<Shape> one = input_shapes;
  for (Shape& shape : one) {
    if (shape.empty() || shape[0] != n) return nullptr;
    shape[0] = 1;
  }
  if (n < 2) return nullptr;
  try {
    CachedPlan& single = plan_for(one);
    return xnorinfer::batch_separable(graph_->nodes(), single.plan, batch, n) ? &single : nullptr;
  } catch (const Error&) {
    return nullptr;  // the graph does not take batch 1 (a fixed batch): run it whole
  }
}

int Session::settled_split(const CachedPlan& cached) const {
  if (!cached.per_sample) return 0;
  switch (batch_mode_) {
    case BatchMode::kWhole:
      return 0;
    case BatchMode::kPerSample:
      return static_cast<int>(ops_.size());
    case BatchMode::kSplit:
      return split_node_;
    case BatchMode::kAuto:
      break;
  }
  return cached.trials.decided;
}

int Session::choose_split(CachedPlan& cached, int* timed_way) {
  *timed_way = -1;
  const int settled = settled_split(cached);
  if (settled >= 0) return settled;
  AutoTrials& t = cached.trials;
  const int nodes = static_cast<int>(ops_.size());
  const int run = t.runs++;
  if (run < AutoTrials::kBothRuns) {  // whole and per sample by turns, after one warm-up each
    if (run >= 2) *timed_way = run % 2;
    return run % 2 == AutoTrials::kWhole ? 0 : nodes;
  }
  if (run == AutoTrials::kBothRuns) {
    t.candidate = fastest_split(t.node_seconds[0], t.node_seconds[1], nodes);
  }
  if (t.candidate >= 0 && run < AutoTrials::kBothRuns + AutoTrials::kCandidateRuns) {
    if (run > AutoTrials::kBothRuns) *timed_way = AutoTrials::kCandidate;
    return t.candidate;
  }
  const int splits[3] = {0, nodes, t.candidate};
  int best = AutoTrials::kWhole;
  for (int way = 1; way < 3; ++way) {
    if (t.timed[way] > 0 &&
        (t.timed[best] == 0 || t.seconds[way] / t.timed[way] < t.seconds[best] / t.timed[best])) {
      best = way;
    }
  }
  t.decided = splits[best];
  return t.decided;
}

void Session::record_trial(CachedPlan& cached, int way, double seconds,
                           const std::vector<double>& node_seconds) {
  AutoTrials& t = cached.trials;
  t.seconds[way] += seconds;
  ++t.timed[way];
  if (way == AutoTrials::kCandidate || node_seconds.size() != ops_.size()) return;
  std::vector<double>& sums = t.node_seconds[way];
  sums.resize(node_seconds.size(), 0.0);
  for (size_t i = 0; i < sums.size(); ++i) sums[i] += node_seconds[i];
}

int Session::batch_split_node(const std::vector<Shape>& input_shapes) {
  std::lock_guard<std::mutex> lock(mutex_);
  return settled_split(plan_for(input_shapes));
}

std::vector<Shape> Session::output_shapes(const std::vector<Shape>& input_shapes) {
  std::lock_guard<std::mutex> lock(mutex_);
  return plan_for(input_shapes).output_shapes;
}

std::unique_ptr<Session::Workspace> Session::make_workspace(const Plan& plan) const {
  auto ws = std::make_unique<Workspace>();
  ws->arena = AlignedBuffer(static_cast<size_t>(plan.arena_bytes) + plan.shared_scratch +
                            plan.scratch_per_thread * num_threads_);
  ws->tensors.resize(plan.infos.size());
  for (size_t s = 0; s < ws->tensors.size(); ++s) {
    if (constant_of_slot_[s]) {
      ws->tensors[s] = *constant_of_slot_[s];
    } else if (plan.offsets[s] >= 0) {
      ws->tensors[s] = Tensor{plan.infos[s], ws->arena.data() + plan.offsets[s]};
    }
  }
  for (size_t i = 0; i < ops_.size(); ++i) {
    std::vector<const Tensor*> in;
    std::vector<Tensor*> out;
    for (int s : node_inputs_[i]) in.push_back(s < 0 ? nullptr : &ws->tensors[s]);
    for (int s : node_outputs_[i]) out.push_back(s < 0 ? nullptr : &ws->tensors[s]);
    ws->node_inputs.push_back(std::move(in));
    ws->node_outputs.push_back(std::move(out));
  }
  return ws;
}

void Session::run(const std::vector<Shape>& input_shapes, const std::vector<const float*>& inputs,
                  const std::vector<float*>& outputs, std::vector<double>* node_seconds) {
  if (inputs.size() != graph_->inputs().size() || outputs.size() != output_slots_.size()) {
    throw InvalidArgument("run() got the wrong number of input or output buffers");
  }
  CachedPlan* cached;
  int split, timed_way;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cached = &plan_for(input_shapes);
    split = choose_split(*cached, &timed_way);
  }
  check_buffers_apart(cached->plan, inputs, outputs);
  std::vector<double> trial_node_seconds;  // a timed trial times its nodes too
  if (!node_seconds && timed_way >= 0) node_seconds = &trial_node_seconds;
  if (node_seconds) node_seconds->clear();  // run_nodes adds node i's time at index i
  const auto start = std::chrono::steady_clock::now();
  run_split(*cached, split, input_shapes, inputs, outputs, node_seconds);
  if (timed_way >= 0) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::lock_guard<std::mutex> lock(mutex_);
    record_trial(*cached, timed_way, seconds, *node_seconds);
  }
}

void Session::run_split(CachedPlan& cached, int split, const std::vector<Shape>& input_shapes,
                        const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                        std::vector<double>* node_seconds) {
  if (split == 0) return run_plan(cached, inputs, outputs, node_seconds);
  const int nodes = static_cast<int>(ops_.size());
  CachedPlan& one = *cached.per_sample;
  const int64_t n = input_shapes[0][0];
  std::vector<int> gathered, copied;
  if (split < nodes) values_after_split(cached.plan, split, &gathered, &copied);
  std::unique_ptr<Workspace> whole = split < nodes ? take_workspace(cached) : nullptr;
  if (whole) bind_outputs(cached.plan, &outputs, 0, *whole);  // before samples gather into it
  // Samples run side by side, one per thread and on one thread inside their ops: no fork and
  // join per op, and each core keeps its sample's values in its own cache.
  const int team = static_cast<int>(std::min<int64_t>(num_threads_, n));
  std::vector<std::unique_ptr<Workspace>> samples(team);
  for (auto& ws : samples) ws = take_workspace(one);
  // Profiling: per thread, its samples' node seconds summed.
  std::vector<std::vector<double>> thread_seconds(node_seconds ? team : 0);
  const auto run_sample = [&](int64_t i, int thread) {
    Workspace& sample = *samples[thread];
    bind_inputs(one.plan, inputs, i, sample, 1);
    bind_outputs(one.plan, whole ? nullptr : &outputs, i, sample);
    run_nodes(one.plan, sample, 0, split, 1, node_seconds ? &thread_seconds[thread] : nullptr);
    if (!whole) return copy_outputs(sample, i, outputs, 1);
    for (int s : gathered) {
      const int64_t bytes = one.plan.infos[s].storage_bytes();
      std::memcpy(static_cast<char*>(whole->tensors[s].data) + i * bytes, sample.tensors[s].data,
                  bytes);
    }
  };
  std::atomic<bool> failed{false};  // an exception may not leave a parallel region
  parallel_for(n, team, [&](int64_t i, int thread) {
    if (failed.load(std::memory_order_relaxed)) return;
    try {
      run_sample(i, thread);
    } catch (...) {
      failed.store(true, std::memory_order_relaxed);
    }
  });
  for (auto& ws : samples) return_workspace(one, std::move(ws));
  if (failed) {  // the whole batch's run raises it as a whole run does (naming the image)
    if (whole) return_workspace(cached, std::move(whole));
    return run_plan(cached, inputs, outputs, node_seconds);
  }
  if (node_seconds) {  // over the samples, per thread that ran them: the run's wall share
    node_seconds->assign(split, 0.0);
    for (const std::vector<double>& seconds : thread_seconds) {
      for (size_t k = 0; k < seconds.size(); ++k) (*node_seconds)[k] += seconds[k] / team;
    }
  }
  if (!whole) return;
  for (int s : copied) bind_input(cached.plan, s, inputs[s], *whole, num_threads_);
  run_nodes(cached.plan, *whole, split, nodes, num_threads_, node_seconds);
  copy_outputs(*whole, 0, outputs, num_threads_);
  return_workspace(cached, std::move(whole));
}

void Session::values_after_split(const Plan& whole, int split, std::vector<int>* gathered,
                                 std::vector<int>* copied) const {
  std::vector<char> read_after(constant_of_slot_.size(), 0);
  for (size_t i = split; i < ops_.size(); ++i) {
    for (int s : node_inputs_[i]) {
      if (s >= 0) read_after[s] = 1;
    }
  }
  for (int s : output_slots_) read_after[s] = 1;
  for (size_t s = 0; s < read_after.size(); ++s) {
    if (!read_after[s] || constant_of_slot_[s] || whole.offsets[s] < 0) continue;
    if (producer_of_slot_[s] < 0) copied->push_back(static_cast<int>(s));
    if (producer_of_slot_[s] >= 0 && producer_of_slot_[s] < split) {
      gathered->push_back(static_cast<int>(s));
    }
  }
}

std::unique_ptr<Session::Workspace> Session::take_workspace(CachedPlan& cached) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!cached.free_workspaces.empty()) {
      std::unique_ptr<Workspace> ws = std::move(cached.free_workspaces.back());
      cached.free_workspaces.pop_back();
      return ws;
    }
  }
  return make_workspace(cached.plan);
}

void Session::return_workspace(CachedPlan& cached, std::unique_ptr<Workspace> ws) {
  std::lock_guard<std::mutex> lock(mutex_);
  cached.free_workspaces.push_back(std::move(ws));
}

void Session::run_plan(CachedPlan& cached, const std::vector<const float*>& inputs,
                       const std::vector<float*>& outputs, std::vector<double>* node_seconds) {
  std::unique_ptr<Workspace> ws = take_workspace(cached);
  bind_inputs(cached.plan, inputs, 0, *ws, num_threads_);
  bind_outputs(cached.plan, &outputs, 0, *ws);
  run_nodes(cached.plan, *ws, 0, static_cast<int>(ops_.size()), num_threads_, node_seconds);
  copy_outputs(*ws, 0, outputs, num_threads_);
  return_workspace(cached, std::move(ws));
}

void Session::bind_inputs(const Plan& plan, const std::vector<const float*>& inputs, int64_t sample,
                          Workspace& ws, int num_threads) const {
  for (size_t k = 0; k < inputs.size(); ++k) {
    const int64_t bytes = plan.infos[k].storage_bytes();
    bind_input(plan, static_cast<int>(k), reinterpret_cast<const char*>(inputs[k]) + sample * bytes,
               ws, num_threads);
  }
}

void Session::check_buffers_apart(const Plan& plan, const std::vector<const float*>& inputs,
                                  const std::vector<float*>& outputs) const {
  // Whether the p_bytes at p and the q_bytes at q share an address.
  const auto overlap = [](const void* p, int64_t p_bytes, const void* q, int64_t q_bytes) {
    const auto a = reinterpret_cast<uintptr_t>(p), b = reinterpret_cast<uintptr_t>(q);
    return a < b + static_cast<uintptr_t>(q_bytes) && b < a + static_cast<uintptr_t>(p_bytes);
  };
  for (size_t j = 0; j < outputs.size(); ++j) {
    const int64_t bytes = plan.infos[output_slots_[j]].storage_bytes();
    for (size_t k = 0; k < j; ++k) {
      if (overlap(outputs[j], bytes, outputs[k], plan.infos[output_slots_[k]].storage_bytes())) {
        throw InvalidArgument("output buffer " + std::to_string(j) + " overlaps output buffer " +
                              std::to_string(k) +
                              ": a node may write an output straight into its buffer");
      }
    }
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (overlap(outputs[j], bytes, inputs[k], plan.infos[k].storage_bytes())) {
        throw InvalidArgument("output buffer " + std::to_string(j) + " overlaps input buffer " +
                              std::to_string(k) + ": inputs are read while outputs are written");
      }
    }
  }
}

void Session::bind_input(const Plan& plan, int k, const void* data, Workspace& ws,
                         int num_threads) const {
  if (plan.input_in_caller_buffer[k]) {  // only read (op.h), never written through this pointer
    ws.tensors[k].data = const_cast<void*>(data);
    return;
  }
  copy_bytes(ws.tensors[k].data, data, plan.infos[k].storage_bytes(), num_threads);
}

void Session::bind_outputs(const Plan& plan, const std::vector<float*>* outputs, int64_t sample,
                           Workspace& ws) const {
  for (size_t j = 0; j < output_slots_.size(); ++j) {
    if (!plan.output_in_caller_buffer[j]) continue;
    const int s = output_slots_[j];
    ws.tensors[s].data =
        outputs ? reinterpret_cast<uint8_t*>((*outputs)[j]) + sample * plan.infos[s].storage_bytes()
                : ws.arena.data() + plan.offsets[s];
  }
}

void Session::copy_outputs(const Workspace& ws, int64_t sample, const std::vector<float*>& outputs,
                           int num_threads) const {
  for (size_t j = 0; j < outputs.size(); ++j) {
    const Tensor& t = ws.tensors[output_slots_[j]];
    const int64_t bytes = t.info.storage_bytes();
    char* const dst = reinterpret_cast<char*>(outputs[j]) + sample * bytes;
    if (dst != t.data) copy_bytes(dst, t.data, bytes, num_threads);  // else written there
  }
}

void Session::run_nodes(const Plan& plan, Workspace& ws, int begin, int end, int num_threads,
                        std::vector<double>* node_seconds) const {
  RunContext ctx;
  ctx.num_threads = num_threads;
  ctx.shared_scratch = ws.arena.data() + plan.arena_bytes;
  ctx.scratch = ctx.shared_scratch + plan.shared_scratch;
  ctx.scratch_per_thread = plan.scratch_per_thread;
  for (int i = begin; i < end; ++i) {
    const auto start = std::chrono::steady_clock::now();
    ctx.state = plan.op_states[i].get();
    ops_[i]->run(ws.node_inputs[i], ws.node_outputs[i], ctx);
    if (node_seconds) {
      node_seconds->resize(std::max(node_seconds->size(), static_cast<size_t>(i) + 1), 0.0);
      (*node_seconds)[i] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  }
}

}  // namespace xnorinfer
