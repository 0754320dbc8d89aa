// SHA-256 (FIPS 180-4): the digest in the model file's trailer, over every byte before it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace xnorinfer {

// Equals Python's hashlib.sha256(data).digest(). Portable C++, no CPU-specific code.
std::array<uint8_t, 32> sha256(const void* data, size_t size);

}  // namespace xnorinfer
