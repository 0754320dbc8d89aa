// AVX2 binary convolution: 3 pixels x 16 output channels (4 ymm of 4 channels each), 64-bit
// lanes. The pixel's word is broadcast, XORed with 4 channels' words, popcounted by nibble
// lookup (vpshufb) and summed per lane with vpsadbw. The masked twin ANDs each XOR with the
// pixel's broadcast nonzero mask first.
#include <immintrin.h>

#include "xnorinfer/kernels/bconv/bconv.h"
#include "xnorinfer/kernels/tile_rows.h"

namespace xnorinfer {
namespace {

constexpr int kNr = 4;  // ymm per pixel row

inline __m256i popcount_bytes(__m256i v) {
  const __m256i lookup = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1,
                                          2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low_nibbles = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_and_si256(v, low_nibbles);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low_nibbles);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lookup, lo), _mm256_shuffle_epi8(lookup, hi));
}

// The float output from the narrowed counts, 8 channels per step: dot = products - 2 * count,
// float(dot) * scale + bias, then residual, relu and the sum's sign bits (bconv.h). A block is
// 16 channels: it sets and clears its own bits of the word, and the block that starts a word
// clears it first.
void store_float(int mr, const int32_t* counts, int64_t stride, const BconvFloatOutput& f) {
  const __m256 zero = _mm256_setzero_ps();
  for (int p = 0; p < mr; ++p) {
    float* out = f.out[p] + f.out_offset;
    Word bits = 0;
    int64_t j = 0;
    for (; j + 8 <= f.channels; j += 8) {
      const __m256i c =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(counts + p * stride + j));
      const __m256i dot =
          _mm256_sub_epi32(_mm256_set1_epi32(f.products[p]), _mm256_add_epi32(c, c));
      __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(dot), _mm256_loadu_ps(f.scale + j)),
                               _mm256_loadu_ps(f.bias + j));
      if (f.residual) v = _mm256_add_ps(v, _mm256_loadu_ps(f.residual[p] + f.out_offset + j));
      if (f.relu) v = _mm256_max_ps(zero, v);  // max(0, v): NaN and -0 stay, as v < 0 ? 0 : v
      _mm256_storeu_ps(out + j, v);
      if (f.sum_threshold) {
        const __m256 negative = _mm256_cmp_ps(v, _mm256_loadu_ps(f.sum_threshold + j), _CMP_LT_OQ);
        bits |= static_cast<Word>(_mm256_movemask_ps(negative)) << j;
      }
    }
    for (; j < f.channels; ++j) {  // the last block's tail
      const float v = bconv_float_value(f, p, j, counts[p * stride + j]);
      out[j] = v;
      if (f.sum_threshold) bits |= Word{v < f.sum_threshold[j]} << j;
    }
    if (f.sum_threshold) {
      Word& word = f.sum_bits[p][f.out_offset / kBitsPerWord];
      const int64_t shift = f.out_offset % kBitsPerWord;
      if (shift == 0) word = 0;
      const Word own = low_bits_mask(f.channels) << shift;
      word = (word & ~own) | (bits << shift);
    }
  }
}

template <int MR, bool kMasked>
void tile(int64_t taps, const BconvTap* tap_list, int64_t lanes, const Word* const* pixels,
          const Word* weights, int32_t* counts, int64_t counts_stride,
          const BconvFloatOutput* to_float, int64_t mask_offset) {
  const __m256i zero = _mm256_setzero_si256();
  __m256i acc[MR][kNr];
  for (int p = 0; p < MR; ++p)
    for (int j = 0; j < kNr; ++j) acc[p][j] = zero;
  for (int64_t i = 0; i < taps; ++i) {
    const Word* ap[MR];
    for (int p = 0; p < MR; ++p) ap[p] = pixels[p] + tap_list[i].a_offset;
    const Word* wrows = weights + tap_list[i].w_row * lanes * (4 * kNr);
    for (int64_t k = 0; k < lanes; ++k) {
      const Word* wrow = wrows + k * (4 * kNr);
      __m256i wv[kNr];
      for (int j = 0; j < kNr; ++j)
        wv[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(wrow + 4 * j));
      for (int p = 0; p < MR; ++p) {
        const __m256i av = _mm256_set1_epi64x(static_cast<long long>(ap[p][k]));
        const __m256i mv = kMasked
                               ? _mm256_set1_epi64x(static_cast<long long>(ap[p][k + mask_offset]))
                               : __m256i{};
        for (int j = 0; j < kNr; ++j) {
          __m256i differ = _mm256_xor_si256(av, wv[j]);
          if (kMasked) differ = _mm256_and_si256(differ, mv);
          const __m256i bytes = popcount_bytes(differ);
          acc[p][j] = _mm256_add_epi64(acc[p][j], _mm256_sad_epu8(bytes, zero));
        }
      }
    }
  }
  int32_t own[MR * 4 * kNr];  // the counts, when they only feed the float output
  int32_t* rows = to_float ? own : counts;
  const int64_t stride = to_float ? 4 * kNr : counts_stride;
  for (int p = 0; p < MR; ++p) {
    for (int j = 0; j < kNr; ++j) {
      // Narrow the four 64-bit lanes to int32 (counts fit easily).
      alignas(32) long long sums[4];
      _mm256_store_si256(reinterpret_cast<__m256i*>(sums), acc[p][j]);
      for (int l = 0; l < 4; ++l) rows[p * stride + 4 * j + l] = static_cast<int32_t>(sums[l]);
    }
  }
  if (to_float) store_float(MR, own, stride, *to_float);
}

template <bool kMasked>
void dispatch(int64_t mr, int64_t taps, const BconvTap* tap_list, int64_t lanes,
              const Word* const* pixels, const void* weights, int32_t* counts,
              int64_t counts_stride, const BconvFloatOutput* f, int64_t mask_offset) {
  const Word* w = static_cast<const Word*>(weights);
  with_tile_rows<3>(mr, [&](auto rows) {
    tile<decltype(rows)::value, kMasked>(taps, tap_list, lanes, pixels, w, counts, counts_stride, f,
                                         mask_offset);
  });
}

}  // namespace

void bconv_ukernel_3x16__avx2(int64_t mr, int64_t taps, const BconvTap* tap_list, int64_t lanes,
                              const Word* const* pixels, const void* weights, int32_t* counts,
                              int64_t counts_stride, const BconvFloatOutput* to_float) {
  dispatch<false>(mr, taps, tap_list, lanes, pixels, weights, counts, counts_stride, to_float, 0);
}

void bconv_masked_ukernel_3x16__avx2(int64_t mr, int64_t taps, const BconvTap* tap_list,
                                     int64_t lanes, const Word* const* pixels, const void* weights,
                                     int32_t* counts, int64_t counts_stride,
                                     const BconvFloatOutput* to_float, int64_t mask_offset) {
  dispatch<true>(mr, taps, tap_list, lanes, pixels, weights, counts, counts_stride, to_float,
                 mask_offset);
}

}  // namespace xnorinfer
