// Binary weights repacked once, at op creation, into GEMM rows: one row per output channel,
// taps in (ky, kx) order, each tap `words_per_tap` words, the row padded with zero words to a
// multiple of kRowAlignWords.
#pragma once

#include <cstdint>
#include <vector>

#include "xnorinfer/base/aligned_buffer.h"
#include "xnorinfer/base/tensor.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {

struct PackedBinaryWeights {
  int64_t rows = 0;
  int64_t taps = 0;
  int64_t bits_per_tap = 0;
  int64_t words_per_tap = 0;
  int64_t row_words = 0;               // padded
  AlignedBuffer data;                  // rows x row_words words
  std::vector<int32_t> tap_popcount;   // rows x taps: number of -1 weights per tap

  const Word* row(int64_t r) const {
    return reinterpret_cast<const Word*>(data.data()) + r * row_words;
  }
};

// `weights` must hold rows * taps * words_for_bits(bits_per_tap) words. Bits past
// bits_per_tap in each tap's last word are cleared (a hostile file cannot smuggle them in).
PackedBinaryWeights pack_binary_weights(const NodeChecker& check, const Tensor& weights,
                                        int64_t rows, int64_t taps, int64_t bits_per_tap);

}  // namespace xnorinfer
