// float -> bf16 as the bf16 path rounds inputs and weights (bfconv.h): to nearest even, a
// subnormal to a zero of its sign (VDPBF16PS treats subnormal inputs as zero; flushing them
// here makes every path see the same zero). NaN and infinity come out as some bf16: callers
// refuse them.
#pragma once

#include <cstdint>
#include <cstring>

namespace xnorinfer {

inline uint16_t to_bf16(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  bits &= (bits & 0x7F800000u) != 0 ? 0xFFFFFFFFu : 0x80000000u;  // a subnormal: its sign only
  return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

}  // namespace xnorinfer
