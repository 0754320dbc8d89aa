// Float weights packed once, at op creation, into the sgemm kernels' B panels
// (kernels/sgemm/sgemm.h): panels of `nr` output channels, each k rows of nr floats.
#pragma once

#include <cstdint>
#include <vector>

#include "xnorinfer/base/aligned_buffer.h"
#include "xnorinfer/base/tensor.h"

namespace xnorinfer {

struct PackedFloatWeights {
  int64_t n = 0, k = 0, nr = 0;
  AlignedBuffer data;

  int64_t panel_floats() const { return k * nr; }
  // The panels from output channel `first` (a multiple of nr) on.
  const float* from(int64_t first) const {
    return reinterpret_cast<const float*>(data.data()) + (first / nr) * panel_floats();
  }
};

// `rows` holds n rows of k floats (output channel-major, as ONNX stores them); row r of the
// result's panels is rows[r][...] transposed into its panel.
PackedFloatWeights pack_float_weights(const float* rows, int64_t n, int64_t k, int64_t nr);

// BWN weights: `rows` packed rows of `bits` signs each (words_for_bits(bits) words per row),
// expanded to -1.0f / +1.0f (bit 1 = -1), `rows` x `bits` floats.
std::vector<float> unpack_signs(const Tensor& packed, int64_t rows, int64_t bits);

}  // namespace xnorinfer
