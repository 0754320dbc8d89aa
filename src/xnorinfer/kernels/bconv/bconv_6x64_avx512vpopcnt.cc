// AVX-512 VPOPCNTDQ binary convolution: 6 pixels x 64 output channels in 24 zmm accumulators,
// 32-bit lanes (16 output channels per zmm, as OpenVINO's JIT kernel does): per 32 input
// channels, 4 weight vectors stay in registers while each pixel's lane is broadcast, XORed,
// VPOPCNTD'd and added. 32-bit lanes give twice the output channels of 64-bit ones for the
// same registers, so a pixel's base pointer, broadcast and count store serve 64 channels.
// The masked twin does the XOR and the AND with the pixel's nonzero mask in one VPTERNLOGD.
#include <immintrin.h>

#include <type_traits>

#include "xnorinfer/kernels/avx512_lanes.h"
#include "xnorinfer/kernels/bconv/bconv.h"
#include "xnorinfer/kernels/tile_rows.h"

namespace xnorinfer {
namespace {

constexpr int kNr = 4;  // zmm (16 output channels each) per pixel
constexpr int kNb = 16 * kNr;
// VPTERNLOGD truth table of (a ^ w) & m for operands (a, w, m) = (0xF0, 0xCC, 0xAA).
constexpr int kXorAnd = (0xF0 ^ 0xCC) & 0xAA;

// What a tile does with its accumulators, fixed at compile time so that each tile has one
// consumer of them: with several (the counts, or the float output with each set of options,
// chosen at run time), the compiler kept all 24 in a copy on the stack, zeroed at every call and
// stored after the loop (6% of a 56x56x64 layer).
struct StoreCounts {};
template <bool kResidualOn, bool kSumBitsOn, bool kReluOn>
struct StoreFloats {
  static constexpr bool kResidual = kResidualOn, kSumBits = kSumBitsOn, kRelu = kReluOn;
};

// The float output straight from the accumulators: dot = products - 2 * count, then
// float(dot) * scale + bias, as dot_to_float_ukernel__avx512f computes it. float(dot) is
// taken as float(products) - 2 * float(count) in one FMA: every term is an integer below
// 2^24, so it is exact and equal.
// Then the residual, the relu as a floor (max(0, v) keeps NaN and -0; a compile-time option
// like the others: a max with -inf in its place cost the 56x56 layers 1-2%) and
// the sum's sign bits as v < threshold, one compare (one 64-bit word per pixel: the block is 64
// channels, a word of its own; lanes past `channels` are masked off, so their bits are 0).
// Fully unrolled and branch-free: looping over the channel vectors at run time and testing the
// options at every step, this epilogue took a fifth of a 56x56x64 layer.
// Everything read from `f` is copied to locals first: the float stores could alias it as far
// as the compiler knows, which made it reload each field after every store.
template <int MR, bool kResidual, bool kSumBits, bool kRelu>
[[gnu::always_inline]] inline void store_floats(const __m512i (&acc)[MR][kNr],
                                                const BconvFloatOutput& f) {
  const float* const scale = f.scale;
  const float* const bias = f.bias;
  const float* const sum_threshold = f.sum_threshold;
  float* out[MR];
  const float* residual[MR];
  __m512 products[MR];
  for (int p = 0; p < MR; ++p) {
    out[p] = f.out[p] + f.out_offset;
    if constexpr (kResidual) residual[p] = f.residual[p] + f.out_offset;
    products[p] = _mm512_set1_ps(static_cast<float>(f.products[p]));
  }
  const __m512 minus_two = _mm512_set1_ps(-2.0f);
  __mmask16 negative[MR][kNr];
#pragma GCC unroll 4
  for (int j = 0; j < kNr; ++j) {
    const __mmask16 m = first_lanes(f.channels - 16 * j);
    const __m512 scale_j = _mm512_maskz_loadu_ps(m, scale + 16 * j);
    const __m512 bias_j = _mm512_maskz_loadu_ps(m, bias + 16 * j);
    const __m512 threshold_j =
        kSumBits ? _mm512_maskz_loadu_ps(m, sum_threshold + 16 * j) : _mm512_setzero_ps();
#pragma GCC unroll 6
    for (int p = 0; p < MR; ++p) {
      const __m512 dot = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[p][j]), minus_two, products[p]);
      __m512 v = _mm512_add_ps(_mm512_mul_ps(dot, scale_j), bias_j);
      if constexpr (kResidual) {
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, residual[p] + 16 * j));
      }
      if constexpr (kRelu) v = _mm512_max_ps(_mm512_setzero_ps(), v);
      _mm512_mask_storeu_ps(out[p] + 16 * j, m, v);
      if constexpr (kSumBits) {
        negative[p][j] = _mm512_mask_cmp_ps_mask(m, v, threshold_j, _CMP_LT_OQ);
      }
    }
  }
  if constexpr (kSumBits) {
    for (int p = 0; p < MR; ++p) {
      Word bits = 0;
      for (int j = 0; j < kNr; ++j) bits |= static_cast<Word>(negative[p][j]) << (16 * j);
      f.sum_bits[p][f.out_offset / kBitsPerWord] = bits;
    }
  }
}

// A dense layer's few rows (counts out, the epilogue after) read each weight lane once per
// call: its weights stream from L3 or memory, 64 KB per block on AlexNet's fc6. Each lane
// prefetches the 4 lines kPrefetchBytes ahead, across page boundaries where the hardware
// prefetcher stops. A conv's tile reuses its block's weights from L1 and needs none.
template <int MR, typename Store>
constexpr bool kStreamsWeights = MR <= 2 && std::is_same_v<Store, StoreCounts>;
constexpr int64_t kPrefetchBytes = 12288;

template <int MR, bool kMasked, typename Store>
void tile(int64_t taps, const BconvTap* tap_list, int64_t lanes, const Word* const* pixels,
          const uint32_t* weights, int32_t* counts, int64_t counts_stride,
          const BconvFloatOutput* to_float, int64_t mask_offset) {
  __m512i acc[MR][kNr];
  for (int p = 0; p < MR; ++p)
    for (int j = 0; j < kNr; ++j) acc[p][j] = _mm512_setzero_si512();
  // Each pixel's lane is read as base + one offset shared by the pixels (base + index
  // addressing), so a tap costs one offset load, not a pointer per pixel.
  const char* base[MR];
  for (int p = 0; p < MR; ++p) base[p] = reinterpret_cast<const char*>(pixels[p]);
  const int64_t mask_bytes = mask_offset * static_cast<int64_t>(sizeof(Word));
  for (int64_t i = 0; i < taps; ++i) {
    const int64_t tap_bytes = tap_list[i].a_offset * static_cast<int64_t>(sizeof(Word));
    const uint32_t* wrows = weights + tap_list[i].w_row * lanes * kNb;
    // Two lanes per loop step (a 64-channel tap is two): the seven 3x3 layers 2-5% faster,
    // alternated with the rolled loop.
#pragma GCC unroll 2
    for (int64_t k = 0; k < lanes; ++k) {
      const int64_t at = tap_bytes + k * static_cast<int64_t>(sizeof(uint32_t));
      const uint32_t* wrow = wrows + k * kNb;
      if constexpr (kStreamsWeights<MR, Store>) {  // past the end of the weights: a harmless hint
        const char* const ahead = reinterpret_cast<const char*>(wrow) + kPrefetchBytes;
        for (int line = 0; line < 4; ++line) _mm_prefetch(ahead + 64 * line, _MM_HINT_T0);
      }
      __m512i wv[kNr];
      for (int j = 0; j < kNr; ++j) wv[j] = _mm512_load_si512(wrow + 16 * j);
      for (int p = 0; p < MR; ++p) {
        const __m512i av = _mm512_set1_epi32(*reinterpret_cast<const int*>(base[p] + at));
        if (kMasked) {
          const __m512i mv =
              _mm512_set1_epi32(*reinterpret_cast<const int*>(base[p] + at + mask_bytes));
          for (int j = 0; j < kNr; ++j) {
            const __m512i differ = _mm512_ternarylogic_epi32(av, wv[j], mv, kXorAnd);
            acc[p][j] = _mm512_add_epi32(acc[p][j], _mm512_popcnt_epi32(differ));
          }
        } else {
          for (int j = 0; j < kNr; ++j) {
            acc[p][j] =
                _mm512_add_epi32(acc[p][j], _mm512_popcnt_epi32(_mm512_xor_si512(av, wv[j])));
          }
        }
      }
    }
  }
  if constexpr (std::is_same_v<Store, StoreCounts>) {
#pragma GCC unroll 6
    for (int p = 0; p < MR; ++p) {
#pragma GCC unroll 4
      for (int j = 0; j < kNr; ++j)
        _mm512_storeu_si512(counts + p * counts_stride + 16 * j, acc[p][j]);
    }
  } else {
    store_floats<MR, Store::kResidual, Store::kSumBits, Store::kRelu>(acc, *to_float);
  }
}

template <bool kMasked>
void dispatch(int64_t mr, int64_t taps, const BconvTap* tap_list, int64_t lanes,
              const Word* const* pixels, const void* weights, int32_t* counts,
              int64_t counts_stride, const BconvFloatOutput* f, int64_t mask_offset) {
  const uint32_t* w = static_cast<const uint32_t*>(weights);
  const auto run = [&](auto store) {
    with_tile_rows<6>(mr, [&](auto rows) {
      tile<decltype(rows)::value, kMasked, decltype(store)>(taps, tap_list, lanes, pixels, w,
                                                            counts, counts_stride, f, mask_offset);
    });
  };
  if (!f) return run(StoreCounts{});
  if (f->residual) {
    if (f->relu) {
      return f->sum_threshold ? run(StoreFloats<true, true, true>{})
                              : run(StoreFloats<true, false, true>{});
    }
    return f->sum_threshold ? run(StoreFloats<true, true, false>{})
                            : run(StoreFloats<true, false, false>{});
  }
  if (f->relu) {
    return f->sum_threshold ? run(StoreFloats<false, true, true>{})
                            : run(StoreFloats<false, false, true>{});
  }
  return f->sum_threshold ? run(StoreFloats<false, true, false>{})
                          : run(StoreFloats<false, false, false>{});
}

}  // namespace

void bconv_ukernel_6x64__avx512vpopcnt(int64_t mr, int64_t taps, const BconvTap* tap_list,
                                       int64_t lanes, const Word* const* pixels,
                                       const void* weights, int32_t* counts, int64_t counts_stride,
                                       const BconvFloatOutput* to_float) {
  dispatch<false>(mr, taps, tap_list, lanes, pixels, weights, counts, counts_stride, to_float, 0);
}

void bconv_masked_ukernel_6x64__avx512vpopcnt(int64_t mr, int64_t taps, const BconvTap* tap_list,
                                              int64_t lanes, const Word* const* pixels,
                                              const void* weights, int32_t* counts,
                                              int64_t counts_stride,
                                              const BconvFloatOutput* to_float,
                                              int64_t mask_offset) {
  dispatch<true>(mr, taps, tap_list, lanes, pixels, weights, counts, counts_stride, to_float,
                 mask_offset);
}

}  // namespace xnorinfer
