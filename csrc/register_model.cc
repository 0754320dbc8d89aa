// read_model: the model-file reader (src/xnorinfer/model) for Python's model_file.loads. It
// returns the file's graph as plain Python objects and each constant's place in the bytes,
// which Python copies out into NumPy arrays.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "register.h"
#include "xnorinfer/base/errors.h"
#include "xnorinfer/model/model_file.h"

namespace py = pybind11;

namespace xnorinfer::python {
namespace {

py::object to_python(json::Ref value) {
  switch (value.type()) {
    case json::Type::kNull:
      return py::none();
    case json::Type::kBool:
      return py::bool_(value.as_bool());
    case json::Type::kInt:
      return py::int_(value.as_int());
    case json::Type::kBigInt:
      return py::reinterpret_steal<py::object>(
          PyLong_FromString(std::string(value.as_string()).c_str(), nullptr, 10));
    case json::Type::kFloat:
      return py::float_(value.as_float());
    case json::Type::kString:
      return py::str(value.as_string().data(), value.as_string().size());
    case json::Type::kArray: {
      py::list list;
      for (size_t i = 0; i < value.size(); ++i) list.append(to_python(value.item(i)));
      return list;
    }
    case json::Type::kObject: {
      py::dict dict;
      for (size_t i = 0; i < value.size(); ++i) {
        dict[py::str(value.key(i).data(), value.key(i).size())] = to_python(value.item(i));
      }
      return dict;
    }
  }
  return py::none();
}

py::object attr_to_python(const AttrValue& value) {
  return std::visit([](const auto& v) -> py::object { return py::cast(v); }, value);
}

py::list value_list(const std::vector<ValueSpec>& specs) {
  py::list list;
  for (const ValueSpec& spec : specs)
    list.append(py::make_tuple(spec.name, spec.shape, spec.dtype));
  return list;
}

py::dict describe(const ModelFile& model) {
  py::dict d;
  d["inputs"] = value_list(model.inputs);
  d["outputs"] = value_list(model.outputs);
  d["values"] = value_list(model.values);
  py::list nodes;
  for (const NodeDef& node : model.nodes) {
    py::dict attrs;
    for (const std::string& key : node.attrs.keys()) {
      attrs[py::str(key)] = attr_to_python(*node.attrs.find(key));
    }
    nodes.append(py::make_tuple(node.name, node.op, node.inputs, node.outputs, attrs));
  }
  d["nodes"] = nodes;
  d["metadata"] = to_python(model.metadata());
  py::list constants;
  for (const ConstantSpec& c : model.constants) {
    const char* dtype = c.storage == ConstantSpec::Storage::kFloat32 ? "<f4" : "<u8";
    constants.append(py::make_tuple(c.name, dtype, c.shape, c.offset, c.nbytes));
  }
  d["constants"] = constants;
  return d;
}

}  // namespace

void register_model(py::module_& m) {
  m.def(
      "read_model",
      [](const py::buffer& data) {
        const py::buffer_info buffer = data.request();
        if (buffer.ndim != 1 || buffer.itemsize != 1 || buffer.strides[0] != 1) {
          throw InvalidArgument("read_model takes contiguous bytes");
        }
        ModelFile model;
        {
          py::gil_scoped_release release;
          model = read_model_file(static_cast<const uint8_t*>(buffer.ptr),
                                  static_cast<size_t>(buffer.size));
        }
        return describe(model);
      },
      py::arg("data"),
      "Reads and checks a model file's bytes (InvalidModelFile says what is wrong). Returns a "
      "dict: inputs, outputs and values as (name, shape, dtype); nodes as (name, op, inputs, "
      "outputs, attrs); metadata; constants as (name, little-endian dtype, shape, offset in the "
      "bytes, nbytes), their CRC-32s checked. Releases the GIL while it reads.");
}

}  // namespace xnorinfer::python
