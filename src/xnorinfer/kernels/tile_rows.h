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

// Calls body(std::integral_constant<int, V>{}) with V = ceil(channels / lanes) clamped to
// [1, kMaxVectors]: a block's channels past the layer's last one cost no accumulators (a
// 96-channel layer's second 64-channel block runs on 2 vectors per pixel, not 4).
template <int kMaxVectors, typename Body>
inline void with_channel_vectors(int64_t channels, int64_t lanes, Body&& body) {
  if constexpr (kMaxVectors > 1) {
    if (channels <= (kMaxVectors - 1) * lanes) {
      return with_channel_vectors<kMaxVectors - 1>(channels, lanes, body);
    }
  }
  body(std::integral_constant<int, kMaxVectors>{});
}

}  // namespace xnorinfer
