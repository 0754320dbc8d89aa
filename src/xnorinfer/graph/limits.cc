#include "xnorinfer/graph/limits.h"

#include <unistd.h>

#include "xnorinfer/base/errors.h"

namespace xnorinfer {

int64_t checked_storage_bytes(const TensorInfo& info, const std::string& what) {
  int64_t count = 1;
  for (size_t i = 0; i < info.shape.size(); ++i) {
    int64_t d = info.shape[i];
    if (d < 0 || d > kMaxExtent) {
      throw InvalidModel(what + " has an invalid extent " + std::to_string(d) + " in shape " +
                         to_string(info.shape));
    }
    if (i + 1 == info.shape.size() && info.packed()) {
      d = (info.dtype == DType::kTernary ? 2 : 1) * words_for_bits(d);
    }
    if (d != 0 && count > kMaxTensorBytes / d) {
      throw InvalidModel(what + " with shape " + to_string(info.shape) + " is too large");
    }
    count *= d;
  }
  const int64_t item = info.packed() ? 8 : 4;
  if (count > kMaxTensorBytes / item) {
    throw InvalidModel(what + " with shape " + to_string(info.shape) + " is too large");
  }
  return count * item;
}

int64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0 ? static_cast<int64_t>(pages) * page_size : 0;
}

}  // namespace xnorinfer
