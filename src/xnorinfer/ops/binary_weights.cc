#include "xnorinfer/ops/binary_weights.h"

#include <string>

namespace xnorinfer {

BlockedBinaryWeights block_binary_weights(const NodeChecker& check, const Tensor& weights,
                                          int64_t out_channels, int64_t groups, int64_t taps,
                                          int64_t bits_per_tap, int64_t block, int lane_bits) {
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
  p.lane_bits = lane_bits;
  p.lanes_per_tap = (bits_per_tap + lane_bits - 1) / lane_bits;
  p.block = block;
  p.blocks_per_group = (p.channels_per_group + block - 1) / block;
  const int64_t words = out_channels * p.k_words();
  if (weights.info.dtype != DType::kBits ||
      weights.info.storage_bytes() != words * static_cast<int64_t>(sizeof(Word))) {
    check.fail("weight must hold " + std::to_string(words) + " packed words (" +
               std::to_string(out_channels) + " x " + std::to_string(taps) + " taps x " +
               std::to_string(p.words_per_tap) + "), got " +
               std::to_string(weights.info.storage_bytes() / 8));
  }
  p.data = AlignedBuffer(static_cast<size_t>(groups * p.blocks_per_group * p.block_bytes()));
  p.tap_popcount.assign(static_cast<size_t>(out_channels * taps), 0);
  const Word tail_mask = low_bits_mask(bits_per_tap - (p.words_per_tap - 1) * kBitsPerWord);
  const int64_t lanes_per_word = kBitsPerWord / lane_bits;
  for (int64_t o = 0; o < out_channels; ++o) {
    const int64_t g = o / p.channels_per_group, in_group = o % p.channels_per_group;
    uint8_t* block_start =
        p.data.data() + (g * p.blocks_per_group + in_group / block) * p.block_bytes();
    for (int64_t t = 0; t < taps; ++t) {
      for (int64_t w = 0; w < p.words_per_tap; ++w) {
        Word v = weights.words()[(o * taps + t) * p.words_per_tap + w];
        if (w == p.words_per_tap - 1) v &= tail_mask;
        p.tap_popcount[o * taps + t] += __builtin_popcountll(v);
        for (int64_t half = 0; half < lanes_per_word; ++half) {
          const int64_t lane = w * lanes_per_word + half;
          if (lane >= p.lanes_per_tap) break;  // past the tap's bits: all zero
          const int64_t row = t * p.lanes_per_tap + lane;
          const int64_t index = row * block + in_group % block;
          if (lane_bits == 64) {
            reinterpret_cast<Word*>(block_start)[index] = v;
          } else {
            reinterpret_cast<uint32_t*>(block_start)[index] =
                static_cast<uint32_t>(v >> (32 * half));
          }
        }
      }
    }
  }
  return p;
}

}  // namespace xnorinfer
