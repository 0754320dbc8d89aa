// The contract's loop, for the scalar kernel and the vector kernels' last columns. Internal
// linkage (anonymous namespace), so the linker can never pick a copy compiled for a wider ISA
// on the scalar path.
#pragma once

#include <cstdint>
#include <type_traits>

#include "xnorinfer/kernels/interleave/interleave.h"

namespace xnorinfer {
namespace {

// The plane count fixed at compile time, so that each pixel's stores are one block.
template <int kPlanes>
inline void interleave_columns(const float* x, int64_t cols, int64_t j0, int64_t j1, float* y) {
  for (int64_t j = j0; j < j1; ++j) {
    for (int c = 0; c < kPlanes; ++c) y[j * kPlanes + c] = x[c * cols + j];
  }
}

// Calls fn(std::integral_constant<int, planes>{}) for planes in [1, kMaxInterleavedPlanes].
template <typename Fn>
inline void with_planes(int64_t planes, Fn&& fn) {
  switch (planes) {
    case 1:
      return fn(std::integral_constant<int, 1>{});
    case 2:
      return fn(std::integral_constant<int, 2>{});
    case 3:
      return fn(std::integral_constant<int, 3>{});
    default:
      return fn(std::integral_constant<int, 4>{});
  }
}

inline void interleave_columns(const float* x, int64_t planes, int64_t cols, int64_t j0, int64_t j1,
                               float* y) {
  with_planes(planes, [&](auto p) { interleave_columns<decltype(p)::value>(x, cols, j0, j1, y); });
}

// A vector kernel's entry: one plane is a copy, 2 to kMaxInterleavedPlanes run
// Steps::run<planes> (the vector steps, then interleave_columns for the last columns).
template <typename Steps>
inline void interleave_with(const float* x, int64_t planes, int64_t cols, int64_t j0, int64_t j1,
                            float* y) {
  with_planes(planes, [&](auto p) {
    constexpr int kPlanes = decltype(p)::value;
    if constexpr (kPlanes == 1) {
      interleave_columns<1>(x, cols, j0, j1, y);
    } else {
      Steps::template run<kPlanes>(x, cols, j0, j1, y);
    }
  });
}

}  // namespace
}  // namespace xnorinfer
