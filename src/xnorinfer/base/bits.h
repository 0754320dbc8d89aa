// Bit-packing conventions shared by every binary kernel.
//
// A binarized value b in {-1, +1} is one bit: 1 for -1, 0 for +1, computed as `x < 0`, so
// +0.0, -0.0 and NaN all become +1. Values pack along the last (channel) axis into 64-bit
// words: channel c is bit (c % 64) of word (c / 64). Unused tail bits are 0 in every operand,
// so they add nothing to popcount(a ^ w). The dot product of two packed ±1 vectors of k_bits
// values is k_bits - 2 * popcount(a ^ w).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xnorinfer {

using Word = uint64_t;
constexpr int64_t kBitsPerWord = 64;

// Kernels may read (never write) up to this many bytes past the end of any tensor buffer.
constexpr size_t kExtraBytes = 64;

constexpr int64_t words_for_bits(int64_t bits) { return (bits + kBitsPerWord - 1) / kBitsPerWord; }

constexpr int64_t round_up(int64_t x, int64_t multiple) {
  return (x + multiple - 1) / multiple * multiple;
}

// Mask with the low `bits` bits set (bits in 1..64).
constexpr Word low_bits_mask(int64_t bits) {
  return bits >= kBitsPerWord ? ~Word{0} : ((Word{1} << bits) - 1);
}

}  // namespace xnorinfer
