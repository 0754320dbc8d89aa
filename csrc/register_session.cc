// Graph, Session and build_info bindings. Arrays cross as C-contiguous numpy arrays; the GIL
// is released while a session runs.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>

#include "register.h"
#include "xnorinfer/base/errors.h"
#include "xnorinfer/base/parallel.h"
#include "xnorinfer/base/shape.h"
#include "xnorinfer/cpu/isa.h"
#include "xnorinfer/graph/graph.h"
#include "xnorinfer/kernels/peak/peak.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/op_schema.h"
#include "xnorinfer/session.h"

namespace py = pybind11;

namespace xnorinfer::python {
namespace {

#ifndef XI_VERSION
#define XI_VERSION "unknown"
#endif
#ifndef XI_COMPILER
#define XI_COMPILER "unknown"
#endif

AttrValue to_attr(const std::string& node, const std::string& key, const py::handle& v) {
  auto bad = [&]() -> InvalidModel {
    return InvalidModel("node '" + node + "': attribute '" + key +
                        "' must be an int, float, str or a list of ints or floats");
  };
  if (py::isinstance<py::bool_>(v)) throw bad();
  if (py::isinstance<py::int_>(v)) return v.cast<int64_t>();
  if (py::isinstance<py::float_>(v)) return v.cast<double>();
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
    const py::sequence seq = v.cast<py::sequence>();
    bool all_int = true;
    for (const py::handle& item : seq) {
      if (py::isinstance<py::bool_>(item)) throw bad();
      if (!py::isinstance<py::int_>(item)) all_int = false;
      if (!py::isinstance<py::int_>(item) && !py::isinstance<py::float_>(item)) throw bad();
    }
    if (all_int) return seq.cast<std::vector<int64_t>>();
    return seq.cast<std::vector<double>>();
  }
  throw bad();
}

void add_node(Graph& g, const std::string& name, const std::string& op,
              const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
              const py::dict& attrs) {
  std::map<std::string, AttrValue> values;
  for (const auto& [key, value] : attrs) {
    const std::string k = py::str(key);
    values[k] = to_attr(name, k, value);
  }
  g.add_node(NodeDef{name, op, inputs, outputs, AttrMap(name, std::move(values))});
}

// float32 arrays become float32 constants; uint64 arrays become packed `bits` constants whose
// last axis counts bits (words * 64).
void add_constant(Graph& g, const std::string& name, const py::array& array) {
  if (!(array.flags() & py::array::c_style)) {
    throw InvalidModel("constant '" + name + "' must be C-contiguous");
  }
  Shape shape(array.shape(), array.shape() + array.ndim());
  TensorInfo info;
  if (py::isinstance<py::array_t<float>>(array)) {
    info = {DType::kFloat32, shape};
  } else if (py::isinstance<py::array_t<uint64_t>>(array)) {
    info = packed_words_info(name, shape);
  } else {
    throw InvalidModel("constant '" + name + "' must be float32 or uint64, got " +
                       std::string(py::str(array.dtype())));
  }
  g.add_constant(name, info, array.data(), static_cast<size_t>(array.nbytes()));
}

std::vector<Shape> shapes_of(const std::vector<py::array_t<float, py::array::c_style>>& arrays) {
  std::vector<Shape> shapes;
  for (const auto& a : arrays) shapes.emplace_back(a.shape(), a.shape() + a.ndim());
  return shapes;
}

py::list slot_list(const std::vector<SlotSpec>& slots) {
  py::list list;
  for (const SlotSpec& slot : slots) {
    py::dict d;
    d["name"] = slot.name;
    d["optional"] = slot.optional;
    list.append(d);
  }
  return list;
}

py::list attr_list(const std::vector<AttrSpec>& attrs) {
  py::list list;
  for (const AttrSpec& attr : attrs) {
    py::dict d;
    d["name"] = attr.name;
    d["type"] = to_string(attr.type);
    d["required"] = attr.required;
    d["count"] = attr.count;
    const bool ints = attr.type == AttrType::kInt || attr.type == AttrType::kInts;
    const bool low = ints && attr.min != std::numeric_limits<int64_t>::min();
    const bool high = ints && attr.max != std::numeric_limits<int64_t>::max();
    d["min"] = low ? py::object(py::int_(attr.min)) : py::none();
    d["max"] = high ? py::object(py::int_(attr.max)) : py::none();
    list.append(d);
  }
  return list;
}

// The op schema (ops/op_schema.h), one dict per op.
py::list list_ops() {
  py::list ops;
  for (const OpSchema& schema : op_schemas()) {
    py::dict d;
    d["name"] = schema.name;
    d["kind"] = to_string(schema.kind);
    d["inputs"] = slot_list(schema.inputs);
    d["variadic"] = schema.variadic;
    d["outputs"] = slot_list(schema.outputs);
    d["attrs"] = attr_list(schema.attrs);
    ops.append(d);
  }
  return ops;
}

// A new float32 array that starts on a cache line: nodes write graph outputs straight into it
// (Session::bind_outputs), and a 64-byte store across two lines costs two stores.
py::array_t<float> cache_aligned_array(const Shape& shape) {
  const size_t bytes =
      (static_cast<size_t>(std::max<int64_t>(num_elements(shape), 1)) * sizeof(float) + 63) / 64 *
      64;  // aligned_alloc takes whole multiples of the alignment
  std::unique_ptr<void, void (*)(void*)> data(std::aligned_alloc(64, bytes), std::free);
  if (!data) {
    throw OutOfMemory("cannot allocate " + std::to_string(bytes) +
                      " bytes for an output of shape " + to_string(shape));
  }
  py::capsule owner(data.get(), [](void* p) { std::free(p); });
  return py::array_t<float>(std::vector<py::ssize_t>(shape.begin(), shape.end()),
                            static_cast<float*>(data.release()), owner);
}

py::list run(Session& s, const std::vector<py::array_t<float, py::array::c_style>>& inputs,
             std::vector<double>* node_seconds = nullptr) {
  const std::vector<Shape> in_shapes = shapes_of(inputs);
  const std::vector<Shape> out_shapes = s.output_shapes(in_shapes);
  std::vector<py::array_t<float>> outputs;
  std::vector<float*> out_ptrs;
  for (const Shape& shape : out_shapes) {
    outputs.push_back(cache_aligned_array(shape));
    out_ptrs.push_back(outputs.back().mutable_data());
  }
  std::vector<const float*> in_ptrs;
  for (const auto& a : inputs) in_ptrs.push_back(a.data());
  {
    py::gil_scoped_release release;
    s.run(in_shapes, in_ptrs, out_ptrs, node_seconds);
  }
  py::list result;
  for (auto& a : outputs) result.append(a);
  return result;
}

// The CPU features detected here that the kernels use or will use (cpu/features.h).
std::vector<std::string> detected_feature_names() {
  const CpuFeatures& f = cpu_features();
  const std::pair<bool, const char*> flags[] = {{f.popcnt, "popcnt"},
                                                {f.avx2, "avx2"},
                                                {f.fma, "fma"},
                                                {f.avx512f, "avx512f"},
                                                {f.avx512bw, "avx512bw"},
                                                {f.avx512vl, "avx512vl"},
                                                {f.avx512vpopcntdq, "avx512vpopcntdq"},
                                                {f.avx512vnni, "avx512vnni"},
                                                {f.avx512bf16, "avx512bf16"},
                                                {f.amx_int8, "amx_int8"},
                                                {f.neon, "neon"},
                                                {f.dotprod, "dotprod"},
                                                {f.sve, "sve"}};
  std::vector<std::string> names;
  for (const auto& [has, name] : flags) {
    if (has) names.push_back(name);
  }
  return names;
}

py::dict build_info() {
  py::dict info;
  info["version"] = XI_VERSION;
  info["compiler"] = XI_COMPILER;
  info["openmp"] = openmp_enabled();
  py::list compiled;
  for (Isa isa : compiled_isas()) compiled.append(to_string(isa));
  info["isa_compiled"] = compiled;
  info["isa_detected"] = to_string(best_available_isa());
  info["cpu_features"] = detected_feature_names();
  // The path of a precision="int8" / "bf16" layer at the detected ISA: the suffix of
  // its fastest kernel that runs here (kernels/qconv, kernels/bfconv), or "portable".
  const auto reduced_kernel = [](const std::string& family) {
    std::string path = "portable";
    for (const KernelInfo& k : list_kernels()) {
      const std::string name = k.name;
      if (k.family == family && k.isa != Isa::kScalar && k.runs_at(best_available_isa())) {
        path = name.substr(name.rfind("__") + 2);
      }
    }
    return path;
  };
  info["int8_kernel"] = reduced_kernel("qconv");
  info["bf16_kernel"] = reduced_kernel("bfconv");
  return info;
}

}  // namespace

void register_session(py::module_& m) {
  py::class_<Graph, std::shared_ptr<Graph>>(m, "Graph")
      .def(py::init<>())
      .def(
          "add_input",
          [](Graph& g, const std::string& name, const Shape& shape) {
            g.add_input(name, shape, DType::kFloat32);
          },
          py::arg("name"), py::arg("shape"))
      .def("add_constant", &add_constant, py::arg("name"), py::arg("array"))
      .def("add_node", &add_node, py::arg("name"), py::arg("op"), py::arg("inputs"),
           py::arg("outputs"), py::arg("attrs"))
      .def("add_output", &Graph::add_output, py::arg("name"));

  m.attr("AUTO_TRIAL_RUNS") = kAutoTrialRuns;
  py::class_<Session>(m, "Session")
      .def(py::init([](std::shared_ptr<Graph> graph, int num_threads, const std::string& isa,
                       const std::string& batch_mode, std::optional<int> split_node) {
             SessionOptions options{num_threads, isa, parse_batch_mode(batch_mode)};
             if (split_node) {  // an explicit split, for tests and experiments
               options.batch_mode = BatchMode::kSplit;
               options.split_node = *split_node;
             }
             return std::make_unique<Session>(std::move(graph), options);
           }),
           py::arg("graph"), py::arg("num_threads") = 0, py::arg("isa") = "",
           py::arg("batch_mode") = "auto", py::arg("split_node") = py::none())
      .def_property_readonly("isa", [](const Session& s) { return to_string(s.isa()); })
      .def_property_readonly("num_threads", &Session::num_threads)
      .def("output_shapes", &Session::output_shapes, py::arg("input_shapes"))
      .def("batch_separable", &Session::batch_separable, py::arg("input_shapes"),
           "Whether a batch of these input shapes may run one sample at a time.")
      .def("batch_split_node", &Session::batch_split_node, py::arg("input_shapes"),
           "How a batch of these input shapes runs now: the number of leading nodes run one "
           "sample at a time (0: whole; all: per sample), -1 while batch_mode='auto' times the "
           "ways.")
      .def(
          "run_profiled",
          [](Session& s, const std::vector<py::array_t<float, py::array::c_style>>& inputs) {
            std::vector<double> seconds;
            py::list outputs = run(s, inputs, &seconds);
            return py::make_tuple(outputs, seconds);
          },
          py::arg("inputs"), "Like run(); also returns each node's wall time in seconds.")
      .def(
          "run",
          [](Session& s, const std::vector<py::array_t<float, py::array::c_style>>& inputs) {
            return run(s, inputs);
          },
          py::arg("inputs"),
          "Runs the graph on C-contiguous float32 inputs (graph input order); returns the "
          "outputs in graph output order. Releases the GIL while it runs.");

  m.def("build_info", &build_info);
  m.def("check_declared_outputs", &check_declared_outputs, py::arg("names"), py::arg("declared"),
        py::arg("planned"),
        "Raises InvalidModel unless the declared output shapes (-1: any extent) are those "
        "planned at batch 1.");
  m.def(
      "peak_loop",
      [](const std::string& kind, const std::string& isa, int64_t iterations) {
        const Isa parsed = parse_isa(isa);
        if (kind != "binary" && kind != "float") {
          throw InvalidArgument("kind must be 'binary' or 'float', got '" + kind + "'");
        }
        py::gil_scoped_release release;
        return kind == "binary" ? xor_popcount_loop(parsed, iterations)
                                : fma_loop(parsed, iterations);
      },
      py::arg("kind"), py::arg("isa"), py::arg("iterations"),
      "Runs a register-resident peak loop (kernels/peak): XOR + popcount + add ('binary') or "
      "FMA ('float'); returns the multiply-accumulates done. Releases the GIL.");
  m.def("list_ops", &list_ops,
        "The op schema: per op its name, kind, input and output slots (name, optional), whether "
        "its last input repeats (variadic), and its attributes (name, type, required, count, "
        "min, max).");
  m.def(
      "info_attrs", []() { return attr_list(info_attrs()); },
      "The informational attributes every op accepts, as list_ops() describes attributes.");
  m.def(
      "resolve_isa", [](const std::string& requested) { return to_string(resolve_isa(requested)); },
      py::arg("requested") = "");
  m.def("available_isas", []() {
    std::vector<std::string> names;
    for (Isa isa : compiled_isas()) {
      if (static_cast<int>(isa) <= static_cast<int>(best_available_isa()))
        names.push_back(to_string(isa));
    }
    return names;
  });
}

}  // namespace xnorinfer::python
