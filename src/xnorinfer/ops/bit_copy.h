// Copying a run of bits between packed rows (bits.h conventions).
#pragma once

#include <cstdint>

#include "xnorinfer/base/bits.h"

namespace xnorinfer {

// Writes bits [bit_offset, bit_offset + num_bits) of `src` to bit 0 onwards of `dst`, filling
// words_for_bits(num_bits) words; bits past num_bits in the last word are 0.
void copy_bits(const Word* src, int64_t bit_offset, int64_t num_bits, Word* dst);

}  // namespace xnorinfer
