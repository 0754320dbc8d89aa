// xnorinfer._core: creates the module and its submodules, then lets each register_* file bind
// one topic. No logic lives here.
#include <pybind11/pybind11.h>

#include "register.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "xnorinfer C++ engine (internal; use the xnorinfer package)";
  xnorinfer::python::register_errors(m);
  xnorinfer::python::register_model(m);
  xnorinfer::python::register_session(m);
  xnorinfer::python::register_testing(m.def_submodule("testing", "kernel-level test hooks"));
}
