// Weights in the bfconv kernels' layout (bfconv.h), rounded to bf16 (bf16_round.h): per block
// of nb output channels one panel of rows * row_bytes * nb bytes, where element k of window
// row r of channel o sits at byte ((r * row_bytes + 2k) / 4) * nb * 4 + (o % nb) * 4 +
// (2k) % 4. The bf16 conv (a window of rows) and the bf16 Dense (one row of K) both pack so.
#pragma once

#include <cstdint>
#include <cstring>

#include "xnorinfer/kernels/bfconv/bf16_round.h"

namespace xnorinfer {

// w: out_channels x rows x row_elements floats. panels: zeroed, so that the padding of each
// row to row_bytes (a multiple of 4) and the channels past out_channels stay +0.0.
inline void pack_bf16_panels(const float* w, int64_t out_channels, int64_t rows,
                             int64_t row_elements, int64_t row_bytes, int64_t nb, uint8_t* panels) {
  const int64_t panel_bytes = rows * row_bytes * nb;
  for (int64_t o = 0; o < out_channels; ++o) {
    uint8_t* panel = panels + (o / nb) * panel_bytes;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t k = 0; k < row_elements; ++k) {
        const uint16_t half = to_bf16(w[(o * rows + r) * row_elements + k]);
        const int64_t byte = r * row_bytes + 2 * k;
        std::memcpy(panel + (byte / 4) * nb * 4 + (o % nb) * 4 + byte % 4, &half, 2);
      }
    }
  }
}

}  // namespace xnorinfer
