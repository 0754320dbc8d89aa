// xnorinfer._core.testing: hooks that run one kernel by name, for the kernel tests and
// benchmarks. Not public API.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>
#include <vector>

#include "register.h"
#include "xnorinfer/base/aligned_buffer.h"
#include "xnorinfer/base/bits.h"
#include "xnorinfer/base/errors.h"
#include "xnorinfer/base/fork_gate.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/binary_weights.h"
#include "xnorinfer/ops/float_weights.h"

namespace py = pybind11;

namespace xnorinfer::python {
namespace {

using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;
using Words = py::array_t<uint64_t, py::array::c_style | py::array::forcecast>;
using Bytes = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;
using Int8s = py::array_t<int8_t, py::array::c_style | py::array::forcecast>;
using Halves = py::array_t<uint16_t, py::array::c_style | py::array::forcecast>;
using Int32s = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;
using Int64s = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

void require_rank2(const py::array& a, const char* what) {
  if (a.ndim() != 2) throw InvalidArgument(std::string(what) + " must be 2-D");
}

// (words, abs_mean [rows]) of a [rows, C] float array: words [rows, ceil(C/64)], or with
// `ternary` [rows, 2 * ceil(C/64)], the sign plane then the nonzero plane of each row.
py::tuple bitpack(const std::string& kernel, const Floats& x, py::object offset, bool ternary,
                  py::object scale, py::object bias) {
  require_rank2(x, "x");
  const BitpackFn fn = kernel == "ref" ? &bitpack_ref : find_bitpack(kernel);
  const int64_t rows = x.shape(0), channels = x.shape(1);
  if (channels < 1) throw InvalidArgument("x needs at least one column");
  if (scale.is_none() != bias.is_none()) throw InvalidArgument("give scale and bias together");
  const auto per_column = [&](py::object values, const char* what) {
    if (values.is_none()) return Floats();
    Floats v = values.cast<Floats>();
    if (v.size() != channels)
      throw InvalidArgument(std::string(what) + " needs one value per column");
    return v;
  };
  const Floats off = per_column(offset, "offset"), s = per_column(scale, "scale"),
               b = per_column(bias, "bias");
  const int64_t words = words_for_bits(channels);
  const int64_t row_words = ternary ? 2 * words : words;
  Words out({rows, row_words});
  Floats abs_mean(rows);
  fn(x.data(), rows, channels, channels, scale.is_none() ? nullptr : s.data(),
     bias.is_none() ? nullptr : b.data(), offset.is_none() ? nullptr : off.data(),
     out.mutable_data(), ternary ? out.mutable_data() + words : nullptr, row_words,
     abs_mean.mutable_data());
  return py::make_tuple(out, abs_mean);
}

// Counts [m, n] of differing bits between pixels a [m, taps, words_per_tap] and output
// channels w [n, taps, words_per_tap], computed as the ops do: weights blocked in the kernel's
// lanes and nb channels (block_binary_weights), pixels in chunks of at most mr, each a base
// pointer with one tap list. `masked`: a is ternary, [m, taps, 2 * words_per_tap] (each tap's
// sign words, then its nonzero mask words), through the kernel's masked twin. "ref" runs the
// oracle with 64-bit lanes; "ref32" with 32-bit lanes.
py::array_t<int32_t> bconv(const std::string& kernel, const Words& a, const Words& w, bool masked) {
  const int64_t planes = masked ? 2 : 1;
  if (a.ndim() != 3 || w.ndim() != 3 || a.shape(1) != w.shape(1) ||
      a.shape(2) != planes * w.shape(2) || w.shape(0) < 1 || w.shape(2) < 1) {
    throw InvalidArgument(
        "a and w must be [m, taps, words] (words doubled when masked) and "
        "[n, taps, words]");
  }
  const int64_t m = a.shape(0), n = w.shape(0), taps = a.shape(1), wpt = w.shape(2);
  const bool ref = kernel == "ref" || kernel == "ref32";
  const BconvKernel k =
      ref ? BconvKernel{nullptr, nullptr, static_cast<int>(std::max<int64_t>(m, 1)),
                        static_cast<int>(n), kernel == "ref" ? 64 : 32}
          : find_bconv(kernel);
  const NodeDef node{"bconv", "testing", {}, {}, AttrMap("bconv", {})};
  const Tensor weights{{DType::kBits, {n, taps, wpt * kBitsPerWord}},
                       const_cast<uint64_t*>(w.data())};
  const BlockedBinaryWeights blocked = block_binary_weights(NodeChecker(node), weights, n, 1, taps,
                                                            wpt * kBitsPerWord, k.nb, k.lane_bits);
  std::vector<BconvTap> tap_list(static_cast<size_t>(taps));
  for (int64_t t = 0; t < taps; ++t) tap_list[t] = {t * planes * wpt, t};
  std::vector<const Word*> pixels(static_cast<size_t>(m));
  for (int64_t p = 0; p < m; ++p) pixels[p] = a.data() + p * taps * planes * wpt;
  const int64_t stride = blocked.blocks_per_group * k.nb;
  std::vector<int32_t> counts(static_cast<size_t>(std::max<int64_t>(m, 1) * stride));
  for (int64_t b = 0; b < blocked.blocks_per_group; ++b) {
    for (int64_t p = 0; p < m; p += k.mr) {
      const int64_t mr = std::min<int64_t>(k.mr, m - p);
      const void* block = blocked.block_data(0, b);
      int32_t* out = counts.data() + p * stride + b * k.nb;
      const int64_t lanes = blocked.lanes_per_tap;
      if (ref) {
        bconv_ref(mr, k.nb, k.lane_bits, taps, tap_list.data(), lanes, pixels.data() + p, block,
                  out, stride, nullptr, masked ? wpt : -1);
      } else if (masked) {
        k.masked(mr, taps, tap_list.data(), lanes, pixels.data() + p, block, out, stride, nullptr,
                 wpt);
      } else {
        k.fn(mr, taps, tap_list.data(), lanes, pixels.data() + p, block, out, stride, nullptr);
      }
    }
  }
  py::array_t<int32_t> c({m, n});
  for (int64_t p = 0; p < m; ++p)
    for (int64_t o = 0; o < n; ++o) c.mutable_at(p, o) = counts[p * stride + o];
  return c;
}

// Pointers to the rows of a [count, n] array, as the pooling kernels take a window's taps.
std::vector<const float*> row_pointers(const Floats& rows) {
  require_rank2(rows, "rows");
  std::vector<const float*> pointers(static_cast<size_t>(rows.shape(0)));
  for (int64_t r = 0; r < rows.shape(0); ++r) pointers[r] = rows.data() + r * rows.shape(1);
  return pointers;
}

// The elementwise max of rows [count, n] (in row order, as the pooling kernels fold them).
Floats max_rows(const std::string& kernel, const Floats& rows) {
  const std::vector<const float*> pointers = row_pointers(rows);
  Floats y(rows.shape(1));
  find_pool(kernel).max_rows(pointers.data(), rows.shape(0), rows.shape(1), 1, 0, y.mutable_data());
  return y;
}

// The mean of rows [count, n] in row order, divided by `divisor`, through the pool kernel named
// by its max_rows function.
Floats average_rows(const std::string& kernel, const Floats& rows, float divisor) {
  const std::vector<const float*> pointers = row_pointers(rows);
  Floats y(rows.shape(1));
  find_pool(kernel).average_rows(pointers.data(), rows.shape(0), rows.shape(1), 1, 0, divisor,
                                 y.mutable_data());
  return y;
}

// planes [p, cols] interleaved into pixels [cols, p] by a kernel, for columns [j0, j1); the
// other pixels keep `fill`, so a kernel writing outside its columns shows.
Floats interleave(const std::string& kernel, const Floats& planes, int64_t j0, int64_t j1,
                  float fill) {
  require_rank2(planes, "planes");
  const int64_t count = planes.shape(0), cols = planes.shape(1);
  if (count < 1 || count > kMaxInterleavedPlanes) {
    throw InvalidArgument("planes must have 1 to " + std::to_string(kMaxInterleavedPlanes) +
                          " rows");
  }
  if (j0 < 0 || j0 > j1 || j1 > cols) throw InvalidArgument("need 0 <= j0 <= j1 <= columns");
  Floats y({cols, count});
  std::fill(y.mutable_data(), y.mutable_data() + cols * count, fill);
  find_interleave(kernel)(planes.data(), count, cols, j0, j1, y.mutable_data());
  return y;
}

// a[:, offsets] [m, k] @ b [k, n] through a direct conv kernel, each row of a one pixel whose
// window float i is at offsets[i] in its row (default: the whole row), with the ops' blocking
// (weights in panels of the kernel's nb columns); then + bias [n] when given, then the relu when
// asked (the kernels' fused epilogue).
Floats sconv(const std::string& kernel, const Floats& a, const Floats& b,
             std::optional<Int64s> offsets, std::optional<Floats> bias, bool relu) {
  require_rank2(a, "a");
  require_rank2(b, "b");
  const int64_t m = a.shape(0), width = a.shape(1), n = b.shape(1);
  std::vector<int64_t> window(static_cast<size_t>(width));
  std::iota(window.begin(), window.end(), int64_t{0});
  if (offsets) {
    if (offsets->ndim() != 1) throw InvalidArgument("offsets must be 1-D");
    window.assign(offsets->data(), offsets->data() + offsets->size());
    for (int64_t offset : window) {
      if (offset < 0 || offset >= width) {
        throw InvalidArgument("offsets must index a's columns, got " + std::to_string(offset));
      }
    }
  }
  const auto k = static_cast<int64_t>(window.size());
  if (b.shape(0) != k) throw InvalidArgument("b's rows must equal the window's length");
  if (bias && (bias->ndim() != 1 || bias->shape(0) != n)) {
    throw InvalidArgument("bias must be [n], one per column of b");
  }
  const SconvKernel sconv = find_sconv(kernel);
  std::vector<float> rows(static_cast<size_t>(n * k));  // b transposed: one row per column
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j) rows[j * k + p] = b.data()[p * n + j];
  const PackedFloatWeights panels = pack_float_weights(rows.data(), n, k, sconv.nb);
  Floats c({m, n});
  std::vector<const float*> pixels(static_cast<size_t>(m));
  std::vector<float*> out(static_cast<size_t>(m));
  for (int64_t p = 0; p < m; ++p) {
    pixels[p] = a.data() + p * width;
    out[p] = c.mutable_data() + p * n;
  }
  for (int64_t o = 0; o < n; o += sconv.nb) {
    for (int64_t p = 0; p < m; p += sconv.mr) {
      sconv.fn(std::min<int64_t>(sconv.mr, m - p), k, window.data(), pixels.data() + p,
               panels.from(o), out.data() + p, o, std::min<int64_t>(sconv.nb, n - o),
               bias ? bias->data() + o : nullptr, relu);
    }
  }
  return c;
}

// float(a [m, k] (uint8) @ w [k, n] (int8) - correction) * multiplier + bias, per column,
// through an int8 direct conv kernel: each row of a is one pixel whose window is `rows` rows of
// k / rows bytes (a multiple of 4), with the kernel's weight panels (qconv.h); then the relu when
// asked.
Floats qconv(const std::string& kernel, const Bytes& a, const Int8s& w, int64_t rows,
             const Int32s& correction, const Floats& multiplier, const Floats& bias, bool relu) {
  require_rank2(a, "a");
  require_rank2(w, "w");
  const int64_t m = a.shape(0), k = a.shape(1), n = w.shape(1);
  if (w.shape(0) != k) throw InvalidArgument("a's columns must equal w's rows");
  if (rows < 1 || k % rows != 0 || (k / rows) % 4 != 0) {
    throw InvalidArgument("rows must divide k into multiples of 4 bytes");
  }
  if (correction.size() != n || multiplier.size() != n || bias.size() != n) {
    throw InvalidArgument("correction, multiplier and bias need one value per column of w");
  }
  const QconvKernel qconv = find_qconv(kernel);
  const int64_t blocks = (n + qconv.nb - 1) / qconv.nb, panel = k * qconv.nb;
  AlignedBuffer panels(static_cast<size_t>(blocks * panel));
  auto* packed = reinterpret_cast<int8_t*>(panels.data());
  for (int64_t p = 0; p < k; ++p) {
    for (int64_t j = 0; j < n; ++j) {
      packed[(j / qconv.nb) * panel + (p / 4) * qconv.nb * 4 + (j % qconv.nb) * 4 + p % 4] =
          w.data()[p * n + j];
    }
  }
  Floats c({m, n});
  std::vector<const uint8_t*> pixels(static_cast<size_t>(m));
  std::vector<float*> out(static_cast<size_t>(m));
  for (int64_t p = 0; p < m; ++p) {
    pixels[p] = a.data() + p * k;
    out[p] = c.mutable_data() + p * n;
  }
  for (int64_t o = 0; o < n; o += qconv.nb) {
    const QconvOutput output{correction.data() + o, multiplier.data() + o, bias.data() + o, relu};
    for (int64_t p = 0; p < m; p += qconv.mr) {
      qconv.fn(std::min<int64_t>(qconv.mr, m - p), rows, k / rows, k / rows, pixels.data() + p,
               packed + (o / qconv.nb) * panel, output, out.data() + p, o,
               std::min<int64_t>(qconv.nb, n - o));
    }
  }
  return c;
}

// a [m, k] @ w [k, n] (both bf16 bits, uint16) + bias through a bf16 direct conv kernel, each
// row of a one pixel whose window is `rows` rows of k / rows elements (an even count), with the
// kernel's weight panels (bfconv.h); then the relu when asked.
Floats bfconv(const std::string& kernel, const Halves& a, const Halves& w, int64_t rows,
              const Floats& bias, bool relu) {
  require_rank2(a, "a");
  require_rank2(w, "w");
  const int64_t m = a.shape(0), k = a.shape(1), n = w.shape(1);
  if (w.shape(0) != k) throw InvalidArgument("a's columns must equal w's rows");
  if (rows < 1 || k % rows != 0 || (k / rows) % 2 != 0) {
    throw InvalidArgument("rows must divide k into even counts");
  }
  if (bias.size() != n) throw InvalidArgument("bias needs one value per column of w");
  const BfconvKernel bfconv = find_bfconv(kernel);
  const int64_t blocks = (n + bfconv.nb - 1) / bfconv.nb, panel = 2 * k * bfconv.nb;
  AlignedBuffer panels(static_cast<size_t>(blocks * panel));
  for (int64_t p = 0; p < k; ++p) {
    for (int64_t j = 0; j < n; ++j) {
      const int64_t byte = 2 * p;
      std::memcpy(panels.data() + (j / bfconv.nb) * panel + (byte / 4) * bfconv.nb * 4 +
                      (j % bfconv.nb) * 4 + byte % 4,
                  w.data() + p * n + j, 2);
    }
  }
  Floats c({m, n});
  std::vector<const uint8_t*> pixels(static_cast<size_t>(m));
  std::vector<float*> out(static_cast<size_t>(m));
  for (int64_t p = 0; p < m; ++p) {
    pixels[p] = reinterpret_cast<const uint8_t*>(a.data() + p * k);
    out[p] = c.mutable_data() + p * n;
  }
  const int64_t row_bytes = 2 * k / rows;
  for (int64_t o = 0; o < n; o += bfconv.nb) {
    for (int64_t p = 0; p < m; p += bfconv.mr) {
      bfconv.fn(std::min<int64_t>(bfconv.mr, m - p), rows, row_bytes, row_bytes, pixels.data() + p,
                panels.data() + (o / bfconv.nb) * panel, bias.data() + o, relu, out.data() + p, o,
                std::min<int64_t>(bfconv.nb, n - o));
    }
  }
  return c;
}

// a [m, k] @ b [k, n] with the kernel's summation order (b packed into its panels first), then
// + bias [n] when given and the relu when asked, in the kernel's epilogue ("ref" has none).
Floats sgemm(const std::string& kernel, const Floats& a, const Floats& b,
             std::optional<Floats> bias, bool relu) {
  require_rank2(a, "a");
  require_rank2(b, "b");
  if (a.shape(1) != b.shape(0)) throw InvalidArgument("a's columns must equal b's rows");
  const int64_t m = a.shape(0), k = a.shape(1), n = b.shape(1);
  if (bias && (bias->ndim() != 1 || bias->shape(0) != n)) {
    throw InvalidArgument("bias must be [n], one per column of b");
  }
  Floats c({m, n});
  if (kernel == "ref") {
    if (bias || relu) throw InvalidArgument("the ref sgemm has no epilogue");
    sgemm_ref(m, n, k, a.data(), k, b.data(), n, c.mutable_data(), n);
    return c;
  }
  const SgemmKernel sgemm = find_sgemm(kernel);
  std::vector<float> rows(static_cast<size_t>(n * k));  // B transposed: one row per column
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j) rows[j * k + p] = b.data()[p * n + j];
  const PackedFloatWeights panels = pack_float_weights(rows.data(), n, k, sgemm.nr);
  sgemm.fn(m, n, k, a.data(), k, panels.from(0), c.mutable_data(), n, bias ? bias->data() : nullptr,
           relu);
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
      d["lane_bits"] = k.lane_bits;
      d["runs_here"] = k.runs_at(best_available_isa());
      out.append(d);
    }
    return out;
  });
  t.def("bitpack", &bitpack, py::arg("kernel"), py::arg("x"), py::arg("offset") = py::none(),
        py::arg("ternary") = false, py::arg("scale") = py::none(), py::arg("bias") = py::none());
  t.def("max_rows", &max_rows, py::arg("kernel"), py::arg("rows"));
  t.def("average_rows", &average_rows, py::arg("kernel"), py::arg("rows"), py::arg("divisor"));
  t.def("interleave", &interleave, py::arg("kernel"), py::arg("planes"), py::arg("j0"),
        py::arg("j1"), py::arg("fill") = 0.0f);
  t.def(
      "fork_gate",
      [](const std::vector<std::pair<int64_t, int64_t>>& events) {
        ForkGate gate;
        std::vector<bool> allowed;
        for (const auto& [now, latest_start] : events) {
          allowed.push_back(gate.allows(now));
          if (latest_start >= 0 && allowed.back()) gate.record(now, now, latest_start);
        }
        return allowed;
      },
      py::arg("events"),
      "A fresh ForkGate through (now_ns, latest_start_ns) events, each a fork that starts and "
      "ends at now_ns: whether it allowed each (and recorded it if so; latest_start_ns < 0: a "
      "query only).");
  t.def("bfconv", &bfconv, py::arg("kernel"), py::arg("a"), py::arg("w"), py::arg("rows"),
        py::arg("bias"), py::arg("relu") = false);
  t.def("qconv", &qconv, py::arg("kernel"), py::arg("a"), py::arg("w"), py::arg("rows"),
        py::arg("correction"), py::arg("multiplier"), py::arg("bias"), py::arg("relu") = false);
  t.def("sconv", &sconv, py::arg("kernel"), py::arg("a"), py::arg("b"),
        py::arg("offsets") = py::none(), py::arg("bias") = py::none(), py::arg("relu") = false);
  t.def("bconv", &bconv, py::arg("kernel"), py::arg("a"), py::arg("w"), py::arg("masked") = false);
  t.def("sgemm", &sgemm, py::arg("kernel"), py::arg("a"), py::arg("b"),
        py::arg("bias") = std::nullopt, py::arg("relu") = false);
}

}  // namespace xnorinfer::python
