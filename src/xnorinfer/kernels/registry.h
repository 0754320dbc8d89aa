// Kernel tables built from the .inc lists, and the selection functions the ops call.
#pragma once

#include <string>
#include <vector>

#include "xnorinfer/cpu/isa.h"
#include "xnorinfer/kernels/bgemm/bgemm.h"
#include "xnorinfer/kernels/bitpack/bitpack.h"
#include "xnorinfer/kernels/sgemm/sgemm.h"

namespace xnorinfer {

struct KernelInfo {
  const char* family;  // "bitpack", "bgemm", "sgemm"
  const char* name;
  Isa isa;
  int mr;  // register tile, 0 where it does not apply
  int nr;
};

// Every compiled kernel of every family, for tests and benchmarks.
std::vector<KernelInfo> list_kernels();

// The widest kernel whose ISA is <= `ceiling`.
BitpackFn select_bitpack(Isa ceiling);
BgemmFn select_bgemm(Isa ceiling);
SgemmFn select_sgemm(Isa ceiling);

// One kernel by name (test hooks); throws InvalidArgument when there is none.
BitpackFn find_bitpack(const std::string& name);
BgemmFn find_bgemm(const std::string& name);
SgemmFn find_sgemm(const std::string& name);

}  // namespace xnorinfer
