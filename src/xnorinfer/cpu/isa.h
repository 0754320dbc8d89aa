// Instruction-set tiers, ordered: a kernel for tier T runs on any CPU that has tier >= T.
//   kAvx2    AVX2 + FMA + POPCNT                                                 (x86-64)
//   kAvx512  AVX-512 F, BW, VL and VPOPCNTDQ (the binary kernels' VPOPCNTD), FMA, POPCNT
//   kNeon    Advanced SIMD, which every ARMv8-A CPU has                          (aarch64)
// A build holds the tiers of one architecture (and kScalar), so the x86 and ARM tiers never
// meet in one ordering decision.
// A tier has one spelling (the names below, XNORINFER_ISA, CMake's XI_ENABLE_*); a kernel's
// name ends in what it uses within its tier: __avx512f, __avx512vpopcnt, and __avx512vnni or
// __avx512bf16 for those that also need a CPU feature (kernels/registry.h checks it).
#pragma once

#include <string>
#include <vector>

namespace xnorinfer {

enum class Isa : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3 };

// "scalar", "avx2", "avx512", "neon"
const char* to_string(Isa isa);

// Parses the names above; throws InvalidArgument on anything else.
Isa parse_isa(const std::string& name);

// Tiers whose kernels were compiled into this build.
std::vector<Isa> compiled_isas();

// Highest tier that is both compiled in and supported by this CPU and OS.
Isa best_available_isa();

// The ISA to run with: `requested` when non-empty, else $XNORINFER_ISA when set, else the best
// available. Throws UnsupportedIsa when the request exceeds what is available: never a silent
// fallback.
Isa resolve_isa(const std::string& requested);

}  // namespace xnorinfer
