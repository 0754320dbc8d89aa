// Binary weights repacked once, at op creation, for the bconv kernels: per group, blocks of
// `block` output channels, each block transposed to (taps * lanes_per_tap) rows of `block`
// lanes of the kernel's lane width (row r = lane r of each channel's weights), zero lanes for
// channels past the group's last one. See kernels/bconv/bconv.h.
#pragma once

#include <cstdint>
#include <vector>

#include "xnorinfer/base/aligned_buffer.h"
#include "xnorinfer/base/tensor.h"
#include "xnorinfer/ops/op_util.h"

namespace xnorinfer {

struct BlockedBinaryWeights {
  int64_t out_channels = 0;
  int64_t groups = 1;
  int64_t channels_per_group = 0;  // out_channels / groups
  int64_t taps = 0;
  int64_t bits_per_tap = 0;
  int64_t words_per_tap = 0;  // of the packed activations and weights
  int lane_bits = 64;
  int64_t lanes_per_tap = 0;  // ceil(bits_per_tap / lane_bits)
  int64_t block = 0;          // output channels per block
  int64_t blocks_per_group = 0;
  AlignedBuffer data;
  std::vector<int32_t> tap_popcount;  // out_channels x taps: number of -1 weights per tap

  int64_t k_words() const { return taps * words_per_tap; }
  int64_t block_bytes() const { return taps * lanes_per_tap * block * (lane_bits / 8); }
  const void* block_data(int64_t group, int64_t b) const {
    return data.data() + (group * blocks_per_group + b) * block_bytes();
  }
};

// The most ±1 products one output may sum: the int32 counts, and the threshold search over
// [-max, max] in output_transform.cc, stay in range.
constexpr int64_t kMaxDotBits = int64_t{1} << 30;

// `weights` holds out_channels rows of taps x words_for_bits(bits_per_tap) words. Bits past
// bits_per_tap in each tap's last word are cleared (a hostile file cannot smuggle them in).
// Fails unless taps * bits_per_tap is within [1, kMaxDotBits] and `weights` has exactly that
// many words; checked before any size is computed from the attributes.
BlockedBinaryWeights block_binary_weights(const NodeChecker& check, const Tensor& weights,
                                          int64_t out_channels, int64_t groups, int64_t taps,
                                          int64_t bits_per_tap, int64_t block, int lane_bits);

}  // namespace xnorinfer
