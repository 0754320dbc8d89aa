#include "xnorinfer/cpu/isa.h"

#include <cstdlib>

#include "xnorinfer/base/errors.h"
#include "xnorinfer/cpu/features.h"

namespace xnorinfer {
namespace {

bool cpu_has(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kAvx2:
      return f.avx2 && f.fma && f.popcnt;
    case Isa::kAvx512:
      return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vpopcntdq && f.fma && f.popcnt;
    case Isa::kNeon:
      return f.neon;
  }
  return false;
}

bool compiled(Isa isa) {
  for (Isa c : compiled_isas()) {
    if (c == isa) return true;
  }
  return false;
}

}  // namespace

const char* to_string(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kNeon:
      return "neon";
  }
  return "unknown";
}

Isa parse_isa(const std::string& name) {
  if (name == "scalar") return Isa::kScalar;
  if (name == "avx2") return Isa::kAvx2;
  if (name == "avx512") return Isa::kAvx512;
  if (name == "neon") return Isa::kNeon;
  throw InvalidArgument("unknown ISA '" + name + "': expected scalar, avx2, avx512 or neon");
}

std::vector<Isa> compiled_isas() {
  std::vector<Isa> isas = {Isa::kScalar};
#ifdef XI_HAVE_AVX2
  isas.push_back(Isa::kAvx2);
#endif
#ifdef XI_HAVE_AVX512
  isas.push_back(Isa::kAvx512);
#endif
#ifdef XI_HAVE_NEON
  isas.push_back(Isa::kNeon);
#endif
  return isas;
}

Isa best_available_isa() {
  Isa best = Isa::kScalar;
  for (Isa isa : compiled_isas()) {
    if (cpu_has(isa)) best = isa;
  }
  return best;
}

Isa resolve_isa(const std::string& requested) {
  std::string name = requested;
  if (name.empty()) {
    const char* env = std::getenv("XNORINFER_ISA");
    if (env == nullptr || *env == '\0') return best_available_isa();
    name = env;
  }
  const Isa isa = parse_isa(name);
  if (!compiled(isa)) {
    throw UnsupportedIsa("ISA '" + name + "' was not compiled into this build of xnorinfer");
  }
  if (!cpu_has(isa)) {
    throw UnsupportedIsa("ISA '" + name + "' is not supported by this CPU (best available: " +
                         to_string(best_available_isa()) + ")");
  }
  return isa;
}

}  // namespace xnorinfer
