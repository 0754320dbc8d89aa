// 12 independent EOR + CNT + UADALP chains on q registers: the ceiling of the NEON binary
// kernels' popcount method (bytewise CNT, pairwise-accumulated into 16-bit lanes; the kernels
// widen those rarely enough to ignore here). Each chain XORs its own accumulator, so no two
// chains compute the same popcount and none is loop-invariant. A chain step is ~8 cycles of
// latency (EOR 2 + CNT 2 + UADALP 4) and 12 chains are 36 instructions, >= 9 cycles on 4 SIMD
// pipes; 12 accumulators + 4 operands + 12 temporaries fit the 32 registers even when GCC
// hoists every EOR (16 chains spill). And 24 independent FMLA chains, enough to cover the FMA
// latency (4 cycles) on 4 FP pipes: FMLA accumulates into its destination, so each chain is
// acc += x * y (x * y tiny: acc stays normal and finite), not the x86 loops' acc * m + c, which
// would cost a MOV per FMA.
#include <arm_neon.h>

#include "xnorinfer/kernels/peak/peak.h"

namespace xnorinfer {

int64_t xor_popcount_loop__neon(int64_t iterations) {
  constexpr int kChains = 12;
  constexpr int kOperands = 4;
  uint16x8_t acc[kChains];
  uint8x16_t x[kOperands];
#pragma GCC unroll 32  // constant indices only: the array stays in registers
  for (int i = 0; i < kChains; ++i) acc[i] = vdupq_n_u16(static_cast<uint16_t>(i));
  for (int i = 0; i < kOperands; ++i) {
    x[i] = vreinterpretq_u8_u64(vdupq_n_u64(0x0123456789abcdefULL * (i + 1)));
  }
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 32  // the chains must live in registers
    for (int i = 0; i < kChains; ++i) {
      const uint8x16_t v = veorq_u8(vreinterpretq_u8_u16(acc[i]), x[i % kOperands]);
      acc[i] = vpadalq_u8(acc[i], vcntq_u8(v));  // the 16-bit lanes may wrap: only a sink
    }
  }
  uint16x8_t sum = acc[0];
#pragma GCC unroll 32
  for (int i = 1; i < kChains; ++i) sum = vaddq_u16(sum, acc[i]);
  volatile uint32_t sink = vaddlvq_u16(sum);
  (void)sink;
  return iterations * kChains * 128;
}

int64_t fma_loop__neon(int64_t iterations) {
  constexpr int kChains = 24;
  // acc += 2^-20 * 2^-20: the product is far below half an ulp of acc (>= 1), so acc keeps its
  // value; nothing overflows or goes subnormal, and the FMLAs still all execute.
  const float32x4_t x = vdupq_n_f32(0x1p-20f), y = vdupq_n_f32(0x1p-20f);
  float32x4_t acc[kChains];
#pragma GCC unroll 32  // constant indices only: the array stays in registers
  for (int i = 0; i < kChains; ++i) acc[i] = vdupq_n_f32(static_cast<float>(i + 1));
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 32  // the chains must live in registers
    for (int i = 0; i < kChains; ++i) acc[i] = vfmaq_f32(acc[i], x, y);
  }
  float32x4_t sum = acc[0];
#pragma GCC unroll 32
  for (int i = 1; i < kChains; ++i) sum = vaddq_f32(sum, acc[i]);
  volatile float sink = vgetq_lane_f32(sum, 0) + vgetq_lane_f32(sum, 3);
  (void)sink;
  return iterations * kChains * 4;
}

}  // namespace xnorinfer
