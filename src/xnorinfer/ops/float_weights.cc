#include "xnorinfer/ops/float_weights.h"

namespace xnorinfer {

PackedFloatWeights pack_float_weights(const float* rows, int64_t n, int64_t k, int64_t nr) {
  PackedFloatWeights p;
  p.n = n;
  p.k = k;
  p.nr = nr;
  const int64_t panels = (n + nr - 1) / nr;
  p.data = AlignedBuffer(static_cast<size_t>(panels * k * nr) * sizeof(float));
  float* dst = reinterpret_cast<float*>(p.data.data());
  for (int64_t o = 0; o < n; ++o) {
    float* panel = dst + (o / nr) * k * nr + o % nr;
    for (int64_t i = 0; i < k; ++i) panel[i * nr] = rows[o * k + i];
  }
  return p;
}

std::vector<float> unpack_signs(const Tensor& packed, int64_t rows, int64_t bits) {
  const int64_t words = words_for_bits(bits);
  std::vector<float> out(static_cast<size_t>(rows * bits));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < bits; ++c) {
      const Word w = packed.words()[r * words + c / kBitsPerWord];
      out[r * bits + c] = (w >> (c % kBitsPerWord)) & 1 ? -1.0f : 1.0f;
    }
  }
  return out;
}

}  // namespace xnorinfer
