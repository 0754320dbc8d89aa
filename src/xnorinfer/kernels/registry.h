// Kernel tables built from the .inc lists, and the selection functions the ops call.
#pragma once

#include <string>
#include <vector>

#include "xnorinfer/cpu/isa.h"
#include "xnorinfer/kernels/bconv/bconv.h"
#include "xnorinfer/kernels/bitpack/bitpack.h"
#include "xnorinfer/kernels/sgemm/sgemm.h"

namespace xnorinfer {

struct KernelInfo {
  const char* family;  // "bitpack", "bconv", "sgemm"
  const char* name;
  Isa isa;
  int mr;  // register tile, 0 where it does not apply
  int nr;  // for bconv: output channels per block
};

struct BconvKernel {
  BconvFn fn;
  int mr;
  int nb;
};

// Every compiled kernel of every family, for tests and benchmarks.
std::vector<KernelInfo> list_kernels();

// The widest kernel whose ISA is <= `ceiling`.
BitpackFn select_bitpack(Isa ceiling);
// The bconv kernel for `ceiling`'s widest tier: of that tier's kernels, the one with the
// largest channel block not wider than `out_channels` (so blocks are not mostly padding).
BconvKernel select_bconv(Isa ceiling, int64_t out_channels);
SgemmFn select_sgemm(Isa ceiling);

// One kernel by name (test hooks); throws InvalidArgument when there is none.
BitpackFn find_bitpack(const std::string& name);
BconvKernel find_bconv(const std::string& name);
SgemmFn find_sgemm(const std::string& name);

}  // namespace xnorinfer
