#include "xnorinfer/ops/bit_copy.h"

namespace xnorinfer {

void copy_bits(const Word* src, int64_t bit_offset, int64_t num_bits, Word* dst) {
  const int64_t words = words_for_bits(num_bits);
  const Word* s = src + bit_offset / kBitsPerWord;
  const int shift = static_cast<int>(bit_offset % kBitsPerWord);
  for (int64_t w = 0; w < words; ++w) {
    Word v = s[w] >> shift;
    // The top `shift` bits of dst word w come from the next source word, when the run
    // reaches that far.
    if (shift != 0 && w * kBitsPerWord + (kBitsPerWord - shift) < num_bits) {
      v |= s[w + 1] << (kBitsPerWord - shift);
    }
    dst[w] = v;
  }
  const int64_t tail = num_bits - (words - 1) * kBitsPerWord;
  dst[words - 1] &= low_bits_mask(tail);
}

}  // namespace xnorinfer
