#include "xnorinfer/base/aligned_buffer.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <cstdlib>
#include <cstring>
#include <string>

#include "xnorinfer/base/bits.h"
#include "xnorinfer/base/errors.h"

namespace xnorinfer {
namespace {

constexpr size_t kAlign = 64;
// Buffers from this size on (a classifier's weights, a batch's activations) start on a 2 MB
// boundary and ask for transparent huge pages, where Linux has them: a layer that streams its
// weights from memory then takes a TLB miss per 2 MB, not per 4 KB (AlexNet's binary 9216->4096
// layer 8% faster with its weights out of cache).
constexpr size_t kHugePage = size_t{2} << 20;

size_t round_up_to(size_t n, size_t multiple) { return (n + multiple - 1) / multiple * multiple; }

}  // namespace

AlignedBuffer::AlignedBuffer(size_t num_bytes) : size_(num_bytes) {
  const size_t padded = round_up_to(num_bytes + kExtraBytes, kAlign);
  const bool huge = padded >= kHugePage;
  void* p = nullptr;
  if (posix_memalign(&p, huge ? kHugePage : kAlign, padded) != 0) {
    throw OutOfMemory("failed to allocate " + std::to_string(num_bytes) + " bytes");
  }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // A hint (the 2 MB pages that fit; the tail stays in 4 KB pages): without it, nothing changes.
  if (huge) madvise(p, round_up_to(padded, 4096), MADV_HUGEPAGE);
#endif
  std::memset(p, 0, padded);
  data_.reset(static_cast<uint8_t*>(p));
}

void AlignedBuffer::Free::operator()(uint8_t* p) const { std::free(p); }

}  // namespace xnorinfer
