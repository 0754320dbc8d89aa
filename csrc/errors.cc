// Maps engine exceptions to Python classes that also derive from the matching built-in, so
// callers can catch either xnorinfer._core.InvalidModel or ValueError.
#include "xnorinfer/base/errors.h"

#include <pybind11/pybind11.h>

#include "register.h"

namespace py = pybind11;

namespace xnorinfer::python {

void register_errors(py::module_& m) {
  py::register_exception<InvalidArgument>(m, "InvalidArgument", PyExc_ValueError);
  const auto invalid_model =
      py::register_exception<InvalidModel>(m, "InvalidModel", PyExc_ValueError);
  py::register_exception<InvalidModelFile>(m, "InvalidModelFile", invalid_model);
  py::register_exception<UnsupportedIsa>(m, "UnsupportedIsa", PyExc_RuntimeError);
  py::register_exception<OutOfMemory>(m, "OutOfMemory", PyExc_MemoryError);
}

}  // namespace xnorinfer::python
