// The tail masks of the AVX-512 kernels. Include only from sources built with AVX-512 flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace xnorinfer {

// The mask of a 16-lane vector's first `n` lanes: all of them from 16 on, none below 1.
inline __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? 0xFFFF : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1);
}

}  // namespace xnorinfer
