#include "xnorinfer/ops/binary_weights.h"

#include <string>

namespace xnorinfer {

PackedBinaryWeights pack_binary_weights(const NodeChecker& check, const Tensor& weights,
                                        int64_t rows, int64_t taps, int64_t bits_per_tap) {
  PackedBinaryWeights p;
  p.rows = rows;
  p.taps = taps;
  p.bits_per_tap = bits_per_tap;
  p.words_per_tap = words_for_bits(bits_per_tap);
  const int64_t words = rows * taps * p.words_per_tap;
  if (weights.info.dtype != DType::kBits ||
      weights.info.storage_bytes() != words * static_cast<int64_t>(sizeof(Word))) {
    check.fail("weight must hold " + std::to_string(words) + " packed words (" +
               std::to_string(rows) + " x " + std::to_string(taps) + " taps x " +
               std::to_string(p.words_per_tap) + "), got " +
               std::to_string(weights.info.storage_bytes() / 8));
  }
  p.row_words = round_up(taps * p.words_per_tap, kRowAlignWords);
  p.data = AlignedBuffer(static_cast<size_t>(rows * p.row_words) * sizeof(Word));
  p.tap_popcount.assign(static_cast<size_t>(rows * taps), 0);
  const Word tail_mask = low_bits_mask(bits_per_tap - (p.words_per_tap - 1) * kBitsPerWord);
  const Word* src = weights.words();
  for (int64_t r = 0; r < rows; ++r) {
    Word* dst = reinterpret_cast<Word*>(p.data.data()) + r * p.row_words;
    for (int64_t t = 0; t < taps; ++t) {
      int32_t count = 0;
      for (int64_t w = 0; w < p.words_per_tap; ++w) {
        Word v = src[(r * taps + t) * p.words_per_tap + w];
        if (w == p.words_per_tap - 1) v &= tail_mask;
        dst[t * p.words_per_tap + w] = v;
        count += __builtin_popcountll(v);
      }
      p.tap_popcount[r * taps + t] = count;
    }
  }
  return p;
}

}  // namespace xnorinfer
