// Instruction-set tiers, ordered: a kernel for tier T runs on any CPU that has tier >= T.
#pragma once

#include <string>
#include <vector>

namespace xnorinfer {

enum class Isa : int { kScalar = 0, kAvx2 = 1, kAvx512Vpopcnt = 2 };

// "scalar", "avx2", "avx512"
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
