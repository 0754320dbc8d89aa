// The int8 path's per-image quantization (ops/quant_conv_core.h): its constants and the
// scalar steps every kernel's range and row quantization (qconv.h) reproduce.
#pragma once

#include <cstdint>
#include <cstring>

namespace xnorinfer {

constexpr int kActivationMax = 255;  // uint8
// Adding and subtracting 1.5 * 2^23 rounds a float of magnitude < 2^22 to the nearest integer
// (ties to even) with plain float arithmetic, the same on every path and vectorizable.
constexpr float kRoundMagic = 12582912.0f;

// A float's bits as an int32 that orders like the float (for non-NaN values): the min and max
// of a range are then integer ones, which vectorize, where float reductions would not (the
// compiler may not reorder them).
inline int32_t ordered_key(uint32_t bits) {
  const auto value = static_cast<int32_t>(bits);
  return value ^ ((value >> 31) & 0x7FFFFFFF);
}

inline float from_ordered_key(int32_t key) {
  const auto bits = static_cast<uint32_t>(key ^ ((key >> 31) & 0x7FFFFFFF));
  float v;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

// One activation quantized: clamp(x * inverse, -zero, 255 - zero) rounded, + zero.
inline uint8_t quantize(float x, float inverse, int32_t zero) {
  const float low = static_cast<float>(-zero);
  const float high = static_cast<float>(kActivationMax - zero);
  float t = x * inverse;
  t = t < low ? low : t;
  t = t > high ? high : t;
  const float rounded = (t + kRoundMagic) - kRoundMagic;
  return static_cast<uint8_t>(static_cast<int32_t>(rounded) + zero);
}

}  // namespace xnorinfer
