// Size limits applied before anything is allocated, so a hostile model or input cannot make
// the engine overflow an index or ask for more memory than exists.
#pragma once

#include <cstdint>
#include <string>

#include "xnorinfer/base/tensor.h"

namespace xnorinfer {

constexpr int64_t kMaxExtent = int64_t{1} << 31;
constexpr int64_t kMaxTensorBytes = int64_t{1} << 40;

// Storage bytes of `info`, computed without overflow; throws InvalidModel naming `what` when an
// extent is negative or the size exceeds kMaxTensorBytes.
int64_t checked_storage_bytes(const TensorInfo& info, const std::string& what);

// Physical memory of this machine in bytes (0 when unknown).
int64_t physical_memory_bytes();

}  // namespace xnorinfer
