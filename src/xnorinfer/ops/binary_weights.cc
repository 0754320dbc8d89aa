#include "xnorinfer/ops/binary_weights.h"

#include <string>

namespace xnorinfer {

BlockedBinaryWeights block_binary_weights(const NodeChecker& check, const Tensor& weights,
                                          int64_t out_channels, int64_t groups, int64_t taps,
                                          int64_t bits_per_tap, int64_t block) {
  if (taps < 1 || bits_per_tap < 1 || taps > kMaxDotBits || bits_per_tap > kMaxDotBits ||
      taps * bits_per_tap > kMaxDotBits) {
    check.fail("a dot product over " + std::to_string(taps) + " taps x " +
               std::to_string(bits_per_tap) + " bits is outside [1, " +
               std::to_string(kMaxDotBits) + "] products");
  }
  BlockedBinaryWeights p;
  p.out_channels = out_channels;
  p.groups = groups;
  p.channels_per_group = out_channels / groups;
  p.taps = taps;
  p.bits_per_tap = bits_per_tap;
  p.words_per_tap = words_for_bits(bits_per_tap);
  p.block = block;
  p.blocks_per_group = (p.channels_per_group + block - 1) / block;
  const int64_t k_words = p.k_words();
  const int64_t words = out_channels * k_words;
  if (weights.info.dtype != DType::kBits ||
      weights.info.storage_bytes() != words * static_cast<int64_t>(sizeof(Word))) {
    check.fail("weight must hold " + std::to_string(words) + " packed words (" +
               std::to_string(out_channels) + " x " + std::to_string(taps) + " taps x " +
               std::to_string(p.words_per_tap) + "), got " +
               std::to_string(weights.info.storage_bytes() / 8));
  }
  p.data = AlignedBuffer(static_cast<size_t>(groups * p.blocks_per_group * k_words * block) *
                         sizeof(Word));
  p.tap_popcount.assign(static_cast<size_t>(out_channels * taps), 0);
  const Word tail_mask = low_bits_mask(bits_per_tap - (p.words_per_tap - 1) * kBitsPerWord);
  Word* dst = reinterpret_cast<Word*>(p.data.data());
  for (int64_t o = 0; o < out_channels; ++o) {
    const int64_t g = o / p.channels_per_group, in_group = o % p.channels_per_group;
    Word* block_start = dst + (g * p.blocks_per_group + in_group / block) * k_words * block;
    for (int64_t k = 0; k < k_words; ++k) {
      Word v = weights.words()[o * k_words + k];
      if (k % p.words_per_tap == p.words_per_tap - 1) v &= tail_mask;
      block_start[k * block + in_group % block] = v;
      p.tap_popcount[o * taps + k / p.words_per_tap] += __builtin_popcountll(v);
    }
  }
  return p;
}

}  // namespace xnorinfer
