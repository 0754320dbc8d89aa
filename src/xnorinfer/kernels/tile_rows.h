// A microkernel's tile height is a template parameter (it sizes the accumulator registers);
// the rows left at an edge are known only at run time. with_tile_rows bridges the two.
#pragma once

#include <cstdint>
#include <type_traits>

namespace xnorinfer {

// Calls body(std::integral_constant<int, R>{}) with R = rows, for 1 <= rows <= kMaxRows.
template <int kMaxRows, typename Body>
inline void with_tile_rows(int64_t rows, Body&& body) {
  if constexpr (kMaxRows > 1) {
    if (rows < kMaxRows) return with_tile_rows<kMaxRows - 1>(rows, body);
  }
  body(std::integral_constant<int, kMaxRows>{});
}

}  // namespace xnorinfer
