// A 64-byte aligned, zero-initialized byte buffer with kExtraBytes of readable slack at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace xnorinfer {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // Throws OutOfMemory when the allocation fails.
  explicit AlignedBuffer(size_t num_bytes);

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t size_ = 0;
};

}  // namespace xnorinfer
