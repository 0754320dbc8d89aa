#include "xnorinfer/base/aligned_buffer.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "xnorinfer/base/bits.h"
#include "xnorinfer/base/errors.h"

namespace xnorinfer {

AlignedBuffer::AlignedBuffer(size_t num_bytes) : size_(num_bytes) {
  constexpr size_t kAlign = 64;
  const size_t padded = (num_bytes + kExtraBytes + kAlign - 1) / kAlign * kAlign;
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(kAlign, padded));
  if (p == nullptr) {
    throw OutOfMemory("failed to allocate " + std::to_string(num_bytes) + " bytes");
  }
  std::memset(p, 0, padded);
  data_.reset(p);
}

void AlignedBuffer::Free::operator()(uint8_t* p) const { std::free(p); }

}  // namespace xnorinfer
