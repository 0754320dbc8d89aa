#include "xnorinfer/cpu/features.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>
#endif
#define XI_X86 1
#elif defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#define XI_AARCH64_LINUX 1
#endif

namespace xnorinfer {
namespace {

#ifdef XI_X86
unsigned long long read_xcr0() {
  unsigned int eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  f.popcnt = ecx & (1u << 23);
  const bool osxsave = ecx & (1u << 27);
  const bool avx = ecx & (1u << 28);
  const bool fma = ecx & (1u << 12);
  if (!osxsave || !avx) return f;
  const unsigned long long xcr0 = read_xcr0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6;    // SSE and AVX state
  const bool os_zmm = (xcr0 & 0xE6) == 0xE6;  // plus opmask, ZMM_Hi256, Hi16_ZMM
  if (!os_ymm) return f;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
  f.fma = fma;
  f.avx2 = ebx & (1u << 5);
  if (os_zmm) {
    f.avx512f = ebx & (1u << 16);
    f.avx512bw = ebx & (1u << 30);
    f.avx512vl = ebx & (1u << 31);
    f.avx512vpopcntdq = ecx & (1u << 14);
    f.avx512vnni = ecx & (1u << 11);
    const bool amx_tile = edx & (1u << 24), amx_int8 = edx & (1u << 25);
    const bool os_tiles = (xcr0 & 0x60000) == 0x60000;  // XTILECFG and XTILEDATA
    f.amx_int8 = amx_tile && amx_int8 && os_tiles;
    if (eax >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) {
      f.avx512bf16 = eax & (1u << 5);
    }
  }
  return f;
}
#elif defined(XI_AARCH64_LINUX)
CpuFeatures detect() {
  const unsigned long hwcap = getauxval(AT_HWCAP);
  CpuFeatures f;
  f.neon = hwcap & HWCAP_ASIMD;
  f.dotprod = hwcap & HWCAP_ASIMDDP;
  f.sve = hwcap & HWCAP_SVE;
  return f;
}
#elif defined(__aarch64__)
CpuFeatures detect() {
  CpuFeatures f;
  f.neon = true;  // every ARMv8-A CPU has it; other features stay unreported off Linux
  return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

// Linux hands a process the AMX tile data state only when asked (arch_prctl), and the first
// tile instruction of a process that did not ask faults. Asked once, when a kernel that needs
// it is first considered: the grant enlarges every signal frame of the process.
bool tile_data_granted() {
#if defined(XI_X86) && defined(__linux__)
  static const bool granted = [] {
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return granted;
#else
  return false;
#endif
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

bool has_feature(CpuFeature feature) {
  switch (feature) {
    case CpuFeature::kNone:
      return true;
    case CpuFeature::kAvx512Vnni:
      return cpu_features().avx512vnni;
    case CpuFeature::kAvx512Bf16:
      return cpu_features().avx512bf16;
    case CpuFeature::kAmxInt8:  // its kernel takes the VNNI kernel's quantization passes
      return cpu_features().amx_int8 && cpu_features().avx512vnni && tile_data_granted();
    case CpuFeature::kNeonDotprod:
      return cpu_features().dotprod;
  }
  return false;
}

}  // namespace xnorinfer
