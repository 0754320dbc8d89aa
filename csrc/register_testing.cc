// xnorinfer._core.testing: hooks that run one kernel by name, for the kernel tests and
// benchmarks. Not public API.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "register.h"
#include "xnorinfer/base/bits.h"
#include "xnorinfer/base/errors.h"
#include "xnorinfer/kernels/registry.h"

namespace py = pybind11;

namespace xnorinfer::python {
namespace {

using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;
using Words = py::array_t<uint64_t, py::array::c_style | py::array::forcecast>;

void require_rank2(const py::array& a, const char* what) {
  if (a.ndim() != 2) throw InvalidArgument(std::string(what) + " must be 2-D");
}

// (words [rows, ceil(C/64)], abs_mean [rows]) of a [rows, C] float array.
py::tuple bitpack(const std::string& kernel, const Floats& x, py::object offset) {
  require_rank2(x, "x");
  const BitpackFn fn = kernel == "ref" ? &bitpack_ref : find_bitpack(kernel);
  const int64_t rows = x.shape(0), channels = x.shape(1);
  if (channels < 1) throw InvalidArgument("x needs at least one column");
  Floats off;
  if (!offset.is_none()) {
    off = offset.cast<Floats>();
    if (off.size() != channels) throw InvalidArgument("offset needs one value per column");
  }
  const int64_t words = words_for_bits(channels);
  Words out({rows, words});
  Floats abs_mean(rows);
  fn(x.data(), rows, channels, channels, offset.is_none() ? nullptr : off.data(),
     out.mutable_data(), words, abs_mean.mutable_data());
  return py::make_tuple(out, abs_mean);
}

// Counts [m, n] of differing bits between rows of a [m, k_words] and b [n, k_words].
py::array_t<int32_t> bgemm(const std::string& kernel, const Words& a, const Words& b) {
  require_rank2(a, "a");
  require_rank2(b, "b");
  if (a.shape(1) != b.shape(1)) throw InvalidArgument("a and b need the same number of words");
  const int64_t m = a.shape(0), n = b.shape(0), k = a.shape(1);
  if (kernel != "ref" && k % kRowAlignWords != 0) {
    throw InvalidArgument("k_words must be a multiple of 8 for the optimized kernels");
  }
  const BgemmFn fn = kernel == "ref" ? &bgemm_ref : find_bgemm(kernel);
  py::array_t<int32_t> c({m, n});
  fn(m, n, k, a.data(), k, b.data(), k, c.mutable_data(), n);
  return c;
}

// a [m, k] @ b [k, n] with the kernel's summation order.
Floats sgemm(const std::string& kernel, const Floats& a, const Floats& b) {
  require_rank2(a, "a");
  require_rank2(b, "b");
  if (a.shape(1) != b.shape(0)) throw InvalidArgument("a's columns must equal b's rows");
  const int64_t m = a.shape(0), k = a.shape(1), n = b.shape(1);
  const SgemmFn fn = kernel == "ref" ? &sgemm_ref : find_sgemm(kernel);
  Floats c({m, n});
  fn(m, n, k, a.data(), k, b.data(), n, c.mutable_data(), n);
  return c;
}

}  // namespace

void register_testing(py::module_ t) {
  t.def("list_kernels", []() {
    py::list out;
    for (const KernelInfo& k : list_kernels()) {
      py::dict d;
      d["family"] = k.family;
      d["name"] = k.name;
      d["isa"] = to_string(k.isa);
      d["mr"] = k.mr;
      d["nr"] = k.nr;
      out.append(d);
    }
    return out;
  });
  t.def("bitpack", &bitpack, py::arg("kernel"), py::arg("x"), py::arg("offset") = py::none());
  t.def("bgemm", &bgemm, py::arg("kernel"), py::arg("a"), py::arg("b"));
  t.def("sgemm", &sgemm, py::arg("kernel"), py::arg("a"), py::arg("b"));
}

}  // namespace xnorinfer::python
