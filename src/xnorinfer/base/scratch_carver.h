// Carves typed arrays, one after another, out of an op's per-thread scratch buffer; with no
// buffer it only adds up their size, so one description serves scratch_bytes() and run().
// Take 8-byte types before 4-byte ones to keep every array aligned.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xnorinfer {

class ScratchCarver {
 public:
  explicit ScratchCarver(uint8_t* buffer) : buffer_(buffer) {}

  template <typename T>
  T* take(int64_t count) {
    T* p = buffer_ ? reinterpret_cast<T*>(buffer_ + size_) : nullptr;
    size_ += static_cast<size_t>(count) * sizeof(T);
    return p;
  }

  size_t size() const { return size_; }

 private:
  uint8_t* buffer_;
  size_t size_ = 0;
};

}  // namespace xnorinfer
