// The binding topics of xnorinfer._core, one file each.
#pragma once

#include <pybind11/pybind11.h>

namespace xnorinfer::python {

void register_errors(pybind11::module_& m);
void register_model(pybind11::module_& m);
void register_session(pybind11::module_& m);
void register_testing(pybind11::module_ m);

}  // namespace xnorinfer::python
