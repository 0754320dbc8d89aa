// Kernel tables built from the .inc lists, and the selection functions the ops call.
#pragma once

#include <string>
#include <vector>

#include "xnorinfer/cpu/features.h"
#include "xnorinfer/cpu/isa.h"
#include "xnorinfer/kernels/bconv/bconv.h"
#include "xnorinfer/kernels/bfconv/bfconv.h"
#include "xnorinfer/kernels/bitpack/bitpack.h"
#include "xnorinfer/kernels/count_bits/count_bits.h"
#include "xnorinfer/kernels/interleave/interleave.h"
#include "xnorinfer/kernels/output/output.h"
#include "xnorinfer/kernels/pool/pool.h"
#include "xnorinfer/kernels/qconv/qconv.h"
#include "xnorinfer/kernels/sconv/sconv.h"
#include "xnorinfer/kernels/sgemm/sgemm.h"
#include "xnorinfer/kernels/transpose/transpose.h"

namespace xnorinfer {

struct KernelInfo {
  const char* family;  // "bitpack", "bconv", "bfconv", "count_bits", "interleave", "output",
                       // "pool", "qconv", "sconv", "sgemm", "transpose"
  const char* name;
  Isa isa;
  int mr;                                  // register tile, 0 where it does not apply
  int nr;                                  // for bconv: output channels per block
  int lane_bits = 0;                       // for bconv: bits per lane (64 or 32)
  CpuFeature feature = CpuFeature::kNone;  // needed beyond the ISA tier

  // Whether this CPU can run it at ISA ceiling `isa`.
  bool runs_at(Isa isa) const {
    return static_cast<int>(this->isa) <= static_cast<int>(isa) && has_feature(feature);
  }
};

struct OutputKernels {
  DotToFloatFn to_float;
  DotToBitsFn to_bits;
};

struct PoolKernels {
  MaxRowsFn max_rows;
  AverageRowsFn average_rows;
};

struct SgemmKernel {
  SgemmFn fn;
  int nr;  // columns per packed B panel
};

struct SconvKernel {
  SconvFn fn;
  Isa isa;
  int mr;
  int nb;
};

struct QconvKernel {
  QconvFn fn;
  QrangeFn range;
  QuantizeRowFn quantize_row;
  int mr;
  int nb;
};

struct BfconvKernel {
  BfconvFn fn;
  Bf16RoundFn round_row;
  int mr;
  int nb;
};

struct BconvKernel {
  BconvFn fn;
  BconvMaskedFn masked;  // the ternary (Sign(0) = 0) twin, same tile
  int mr;
  int nb;
  int lane_bits;  // weights are blocked in lanes of this many bits (bconv.h)
};

// Every compiled kernel of every family, for tests and benchmarks.
std::vector<KernelInfo> list_kernels();

// The widest kernel whose ISA is <= `ceiling`.
BitpackFn select_bitpack(Isa ceiling);
BconvKernel select_bconv(Isa ceiling);
CountBitsFn select_count_bits(Isa ceiling);
OutputKernels select_output(Isa ceiling);
PoolKernels select_pool(Isa ceiling);
InterleaveFn select_interleave(Isa ceiling);
TransposeTileFn select_transpose(Isa ceiling);
// select_qconv and select_bfconv also skip kernels whose CPU feature is missing.
QconvKernel select_qconv(Isa ceiling);
BfconvKernel select_bfconv(Isa ceiling);
// Of the widest ISA's direct conv kernels, the one whose blocks pad `channels` least (the first
// listed on a tie).
SconvKernel select_sconv(Isa ceiling, int64_t channels);
SgemmKernel select_sgemm(Isa ceiling);

// One kernel by name (test hooks); throws InvalidArgument when there is none.
BitpackFn find_bitpack(const std::string& name);
BconvKernel find_bconv(const std::string& name);
CountBitsFn find_count_bits(const std::string& name);
SgemmKernel find_sgemm(const std::string& name);
PoolKernels find_pool(const std::string& name);  // by its max_rows name
InterleaveFn find_interleave(const std::string& name);
TransposeTileFn find_transpose(const std::string& name);
SconvKernel find_sconv(const std::string& name);
QconvKernel find_qconv(const std::string& name);
BfconvKernel find_bfconv(const std::string& name);

}  // namespace xnorinfer
