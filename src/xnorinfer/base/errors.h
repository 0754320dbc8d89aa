// Exceptions thrown by the engine. They are thrown only while a graph is built, validated or
// planned, or while options are parsed: never from inside a kernel. csrc/errors.cc maps each to
// a Python exception class.
#pragma once

#include <stdexcept>
#include <string>

namespace xnorinfer {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A caller-supplied value (an input tensor, an option) breaks the API contract.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// The graph itself is inconsistent: unknown op, bad attribute, dangling value, shape mismatch.
class InvalidModel : public Error {
 public:
  using Error::Error;
};

// The requested ISA is not available on this CPU or was not compiled in.
class UnsupportedIsa : public Error {
 public:
  using Error::Error;
};

// A planned buffer would exceed what the engine is willing to allocate.
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

}  // namespace xnorinfer

// Checks an invariant in debug builds only (hot paths). Release builds compile it out.
#ifdef NDEBUG
#define XI_DCHECK(cond) ((void)0)
#else
#include <cassert>
#define XI_DCHECK(cond) assert(cond)
#endif
