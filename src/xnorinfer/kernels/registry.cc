#include "xnorinfer/kernels/registry.h"

#include "xnorinfer/base/bits.h"
#include "xnorinfer/base/errors.h"

namespace xnorinfer {
namespace {

template <typename Fn>
struct Entry {
  KernelInfo info;
  Fn fn;
};

const Entry<BitpackFn> kBitpack[] = {
#define XI_BITPACK(fn, isa) {{"bitpack", #fn, Isa::isa, 0, 0}, &fn},
#include "xnorinfer/kernels/bitpack/bitpack.inc"
#undef XI_BITPACK
};

struct BconvPair {
  BconvFn fn;
  BconvMaskedFn masked;
};

const Entry<BconvPair> kBconv[] = {
#define XI_BCONV(fn, masked_fn, isa, mr, nb, lane_bits) \
  {{"bconv", #fn, Isa::isa, mr, nb, lane_bits}, {&fn, &masked_fn}},
#include "xnorinfer/kernels/bconv/bconv.inc"
#undef XI_BCONV
};

const Entry<CountBitsFn> kCountBits[] = {
#define XI_COUNT_BITS(fn, isa) {{"count_bits", #fn, Isa::isa, 0, 0}, &fn},
#include "xnorinfer/kernels/count_bits/count_bits.inc"
#undef XI_COUNT_BITS
};

const Entry<OutputKernels> kOutput[] = {
#define XI_OUTPUT(to_float, to_bits, isa) \
  {{"output", #to_float, Isa::isa, 0, 0}, {&to_float, &to_bits}},
#include "xnorinfer/kernels/output/output.inc"
#undef XI_OUTPUT
};

const Entry<PoolKernels> kPool[] = {
#define XI_POOL(max_fn, average_fn, isa) \
  {{"pool", #max_fn, Isa::isa, 0, 0}, {&max_fn, &average_fn}},
#include "xnorinfer/kernels/pool/pool.inc"
#undef XI_POOL
};

const Entry<InterleaveFn> kInterleave[] = {
#define XI_INTERLEAVE(fn, isa) {{"interleave", #fn, Isa::isa, 0, 0}, &fn},
#include "xnorinfer/kernels/interleave/interleave.inc"
#undef XI_INTERLEAVE
};

const Entry<TransposeTileFn> kTranspose[] = {
#define XI_TRANSPOSE(fn, isa) {{"transpose", #fn, Isa::isa, 0, 0}, &fn},
#include "xnorinfer/kernels/transpose/transpose.inc"
#undef XI_TRANSPOSE
};

const Entry<SconvFn> kSconv[] = {
#define XI_SCONV(fn, isa, mr, nb) {{"sconv", #fn, Isa::isa, mr, nb}, &fn},
#include "xnorinfer/kernels/sconv/sconv.inc"
#undef XI_SCONV
};

struct QconvSet {
  QconvFn fn;
  QrangeFn range;
  QuantizeRowFn quantize_row;
};

const Entry<QconvSet> kQconv[] = {
#define XI_QCONV(fn, range_fn, quantize_fn, isa, feature, mr, nb) \
  {{"qconv", #fn, Isa::isa, mr, nb, 0, CpuFeature::feature}, {&fn, &range_fn, &quantize_fn}},
#include "xnorinfer/kernels/qconv/qconv.inc"
#undef XI_QCONV
};

struct BfconvPair {
  BfconvFn fn;
  Bf16RoundFn round_row;
};

const Entry<BfconvPair> kBfconv[] = {
#define XI_BFCONV(fn, round_fn, isa, feature, mr, nb) \
  {{"bfconv", #fn, Isa::isa, mr, nb, 0, CpuFeature::feature}, {&fn, &round_fn}},
#include "xnorinfer/kernels/bfconv/bfconv.inc"
#undef XI_BFCONV
};

const Entry<SgemmFn> kSgemm[] = {
#define XI_SGEMM(fn, isa, mr, nr) {{"sgemm", #fn, Isa::isa, mr, nr}, &fn},
#include "xnorinfer/kernels/sgemm/sgemm.inc"
#undef XI_SGEMM
};

// Tables list kernels in increasing ISA order, so the last one that fits is the widest.
template <typename Fn, size_t N>
const Entry<Fn>& select_entry(const Entry<Fn> (&table)[N], Isa ceiling) {
  const Entry<Fn>* best = &table[0];
  for (const auto& e : table) {
    if (e.info.runs_at(ceiling)) best = &e;
  }
  return *best;
}

template <typename Fn, size_t N>
const Entry<Fn>& find_entry(const Entry<Fn> (&table)[N], const std::string& name) {
  for (const auto& e : table) {
    if (name == e.info.name) return e;
  }
  throw InvalidArgument("no kernel named '" + name + "' in this build");
}

template <typename Fn, size_t N>
Fn select(const Entry<Fn> (&table)[N], Isa ceiling) {
  return select_entry(table, ceiling).fn;
}

template <typename Fn, size_t N>
Fn find(const Entry<Fn> (&table)[N], const std::string& name) {
  return find_entry(table, name).fn;
}

BconvKernel to_bconv(const Entry<BconvPair>& e) {
  return {e.fn.fn, e.fn.masked, e.info.mr, e.info.nr, e.info.lane_bits};
}
SgemmKernel to_sgemm(const Entry<SgemmFn>& e) { return {e.fn, e.info.nr}; }
SconvKernel to_sconv(const Entry<SconvFn>& e) { return {e.fn, e.info.isa, e.info.mr, e.info.nr}; }
QconvKernel to_qconv(const Entry<QconvSet>& e) {
  return {e.fn.fn, e.fn.range, e.fn.quantize_row, e.info.mr, e.info.nr};
}
BfconvKernel to_bfconv(const Entry<BfconvPair>& e) {
  return {e.fn.fn, e.fn.round_row, e.info.mr, e.info.nr};
}

template <typename Fn, size_t N>
void append(const Entry<Fn> (&table)[N], std::vector<KernelInfo>& out) {
  for (const auto& e : table) out.push_back(e.info);
}

}  // namespace

std::vector<KernelInfo> list_kernels() {
  std::vector<KernelInfo> out;
  append(kBitpack, out);
  append(kBconv, out);
  append(kBfconv, out);
  append(kCountBits, out);
  append(kInterleave, out);
  append(kOutput, out);
  append(kPool, out);
  append(kQconv, out);
  append(kSconv, out);
  append(kSgemm, out);
  append(kTranspose, out);
  return out;
}

BitpackFn select_bitpack(Isa ceiling) { return select(kBitpack, ceiling); }
BconvKernel select_bconv(Isa ceiling) { return to_bconv(select_entry(kBconv, ceiling)); }
CountBitsFn select_count_bits(Isa ceiling) { return select(kCountBits, ceiling); }
OutputKernels select_output(Isa ceiling) { return select(kOutput, ceiling); }
PoolKernels select_pool(Isa ceiling) { return select(kPool, ceiling); }
InterleaveFn select_interleave(Isa ceiling) { return select(kInterleave, ceiling); }
TransposeTileFn select_transpose(Isa ceiling) { return select(kTranspose, ceiling); }
QconvKernel select_qconv(Isa ceiling) { return to_qconv(select_entry(kQconv, ceiling)); }
BfconvKernel select_bfconv(Isa ceiling) { return to_bfconv(select_entry(kBfconv, ceiling)); }
SconvKernel select_sconv(Isa ceiling, int64_t channels) {
  const Isa widest = select_entry(kSconv, ceiling).info.isa;
  const auto padded = [&](const Entry<SconvFn>& e) { return round_up(channels, e.info.nr); };
  const Entry<SconvFn>* best = nullptr;
  for (const auto& e : kSconv) {
    if (e.info.isa == widest && (!best || padded(e) < padded(*best))) best = &e;
  }
  return to_sconv(*best);
}
SgemmKernel select_sgemm(Isa ceiling) { return to_sgemm(select_entry(kSgemm, ceiling)); }

BitpackFn find_bitpack(const std::string& name) { return find(kBitpack, name); }
BconvKernel find_bconv(const std::string& name) { return to_bconv(find_entry(kBconv, name)); }
CountBitsFn find_count_bits(const std::string& name) { return find(kCountBits, name); }
SgemmKernel find_sgemm(const std::string& name) { return to_sgemm(find_entry(kSgemm, name)); }
PoolKernels find_pool(const std::string& name) { return find(kPool, name); }
InterleaveFn find_interleave(const std::string& name) { return find(kInterleave, name); }
TransposeTileFn find_transpose(const std::string& name) { return find(kTranspose, name); }
SconvKernel find_sconv(const std::string& name) { return to_sconv(find_entry(kSconv, name)); }
QconvKernel find_qconv(const std::string& name) { return to_qconv(find_entry(kQconv, name)); }
BfconvKernel find_bfconv(const std::string& name) { return to_bfconv(find_entry(kBfconv, name)); }

}  // namespace xnorinfer
