// CPU feature detection: CPUID plus XGETBV, so that a feature the OS does not save across
// context switches (AVX, AVX-512 state) counts as absent.
#pragma once

namespace xnorinfer {

struct CpuFeatures {
  bool popcnt = false;
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vpopcntdq = false;
  bool avx512vnni = false;  // VPDPBUSD: the int8 first layer's kernel
  bool avx512bf16 = false;  // VDPBF16PS: the bf16 first layer's kernel
};

// A feature a kernel needs beyond its ISA tier (the kernel lists' `feature` column).
enum class CpuFeature { kNone, kAvx512Vnni, kAvx512Bf16 };

// Detected once, then cached.
const CpuFeatures& cpu_features();

bool has_feature(CpuFeature feature);

}  // namespace xnorinfer
