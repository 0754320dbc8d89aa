#include "xnorinfer/cpu/features.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
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
    case CpuFeature::kNeonDotprod:
      return cpu_features().dotprod;
  }
  return false;
}

}  // namespace xnorinfer
