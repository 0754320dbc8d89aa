#include <cstring>
#include <vector>

#include "xnorinfer/kernels/bconv/bconv.h"

namespace xnorinfer {
namespace {

// Lane k (of lane_bits bits) of the words at p.
uint64_t lane(const Word* p, int lane_bits, int64_t k) {
  if (lane_bits == 64) return p[k];
  uint32_t v;
  std::memcpy(&v, reinterpret_cast<const unsigned char*>(p) + 4 * k, sizeof v);
  return v;
}

uint64_t weight_lane(const void* weights, int lane_bits, int64_t index) {
  if (lane_bits == 64) return static_cast<const uint64_t*>(weights)[index];
  return static_cast<const uint32_t*>(weights)[index];
}

}  // namespace

float bconv_float_value(const BconvFloatOutput& f, int64_t p, int64_t j, int32_t count) {
  const int32_t dot = f.products[p] - 2 * count;
  float v = static_cast<float>(dot) * f.scale[j] + f.bias[j];
  if (f.residual) v += f.residual[p][f.out_offset + j];
  if (f.relu && v < 0.0f) v = 0.0f;
  return v;
}

void bconv_counts_to_float(int64_t mr, const int32_t* counts, int64_t counts_stride,
                           const BconvFloatOutput& f) {
  for (int64_t p = 0; p < mr; ++p) {
    float* out = f.out[p] + f.out_offset;
    // The block that starts a word clears it (blocks run in channel order), so its bits past
    // the last channel are 0.
    if (f.sum_threshold && f.out_offset % kBitsPerWord == 0)
      f.sum_bits[p][f.out_offset / kBitsPerWord] = 0;
    for (int64_t j = 0; j < f.channels; ++j) {
      const float v = bconv_float_value(f, p, j, counts[p * counts_stride + j]);
      out[j] = v;
      if (f.sum_threshold) {
        const int64_t o = f.out_offset + j;
        Word& word = f.sum_bits[p][o / kBitsPerWord];
        const Word bit = Word{1} << (o % kBitsPerWord);
        word = v < f.sum_threshold[j] ? word | bit : word & ~bit;
      }
    }
  }
}

void bconv_ref(int64_t mr, int64_t nb, int lane_bits, int64_t taps, const BconvTap* tap_list,
               int64_t lanes_per_tap, const Word* const* pixels, const void* weights,
               int32_t* counts, int64_t counts_stride, const BconvFloatOutput* to_float,
               int64_t mask_offset) {
  if (to_float) {  // count into a buffer of our own, then convert
    std::vector<int32_t> own(static_cast<size_t>(mr * nb));
    bconv_ref(mr, nb, lane_bits, taps, tap_list, lanes_per_tap, pixels, weights, own.data(), nb,
              nullptr, mask_offset);
    bconv_counts_to_float(mr, own.data(), nb, *to_float);
    return;
  }
  for (int64_t p = 0; p < mr; ++p) {
    for (int64_t j = 0; j < nb; ++j) {
      int32_t count = 0;
      for (int64_t i = 0; i < taps; ++i) {
        const Word* tap = pixels[p] + tap_list[i].a_offset;
        for (int64_t k = 0; k < lanes_per_tap; ++k) {
          uint64_t x =
              lane(tap, lane_bits, k) ^
              weight_lane(weights, lane_bits, (tap_list[i].w_row * lanes_per_tap + k) * nb + j);
          if (mask_offset >= 0) x &= lane(tap + mask_offset, lane_bits, k);
          while (x) {  // Kernighan's loop: deliberately unlike every optimized variant
            x &= x - 1;
            ++count;
          }
        }
      }
      counts[p * counts_stride + j] = count;
    }
  }
}

}  // namespace xnorinfer
