// CPU feature detection. On x86-64: CPUID plus XGETBV, so that a feature the OS does not save
// across context switches (AVX, AVX-512 state) counts as absent. On aarch64 Linux: the kernel's
// hardware capabilities (getauxval), which say what user space may run.
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
  bool avx512bf16 = false;  // VDPBF16PS: the bf16 layers' kernel
  bool amx_int8 = false;    // AMX tiles with TDPBUSD, enabled by the OS: the int8 first layer
  bool neon = false;        // aarch64 Advanced SIMD
  bool dotprod = false;     // aarch64 SDOT/UDOT: the int8 first layer's kernel
  bool sve = false;         // aarch64 SVE (reported; for kernels to come)
};

// A feature a kernel needs beyond its ISA tier (the kernel lists' `feature` column).
enum class CpuFeature { kNone, kAvx512Vnni, kAvx512Bf16, kAmxInt8, kNeonDotprod };

// Detected once, then cached.
const CpuFeatures& cpu_features();

bool has_feature(CpuFeature feature);

}  // namespace xnorinfer
