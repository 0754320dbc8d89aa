// The exceptions xnorinfer throws, part of the public C++ API (xnorinfer.h). They are thrown
// while a model is read, built or planned, or while options and inputs are checked: never from
// inside a kernel. The Python bindings map each to a Python class (csrc/errors.cc).
#pragma once

#include <stdexcept>
#include <string>

// Exceptions cross the shared library's boundary, so their type information is exported even
// when everything else in the library is hidden.
#define XNORINFER_EXPORT __attribute__((visibility("default")))

namespace xnorinfer {

class XNORINFER_EXPORT Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A caller-supplied value (an input tensor, an option) breaks the API contract.
class XNORINFER_EXPORT InvalidArgument : public Error {
 public:
  using Error::Error;
};

// The graph itself is inconsistent: unknown op, bad attribute, dangling value, shape mismatch.
class XNORINFER_EXPORT InvalidModel : public Error {
 public:
  using Error::Error;
};

// The bytes are not a readable model file: not one at all, truncated, corrupted, written by a
// newer version, or malformed. The message says which.
class XNORINFER_EXPORT InvalidModelFile : public InvalidModel {
 public:
  using InvalidModel::InvalidModel;
};

// The requested ISA is not available on this CPU or was not compiled in.
class XNORINFER_EXPORT UnsupportedIsa : public Error {
 public:
  using Error::Error;
};

// A planned buffer would exceed what the engine is willing to allocate.
class XNORINFER_EXPORT OutOfMemory : public Error {
 public:
  using Error::Error;
};

}  // namespace xnorinfer
