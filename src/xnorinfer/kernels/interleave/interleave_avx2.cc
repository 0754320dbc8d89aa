// AVX2 interleaving: 8 pixels per step. Each output vector takes every plane's vector through
// VPERMPS and blends in the lanes that hold that plane's channel.
#include <immintrin.h>

#include "xnorinfer/kernels/interleave/interleave.h"
#include "xnorinfer/kernels/interleave/interleave_common.h"

namespace xnorinfer {
namespace {

// The vector steps of `kPlanes` planes, then the contract's loop for the last columns.
struct Steps {
  template <int kPlanes>
  static void run(const float* x, int64_t cols, int64_t j0, int64_t j1, float* y) {
    // Output vector v of a step holds its floats 8v..8v+7: float f is channel f % kPlanes of the
    // step's pixel f / kPlanes. A blend mask lane is all ones where the channel is c.
    __m256i pixel[kPlanes];
    __m256 channel[kPlanes][kPlanes];
    for (int v = 0; v < kPlanes; ++v) {
      alignas(32) int32_t index[8];
      alignas(32) int32_t mask[kPlanes][8];
      for (int lane = 0; lane < 8; ++lane) {
        const int f = 8 * v + lane;
        index[lane] = f / kPlanes;
        for (int c = 0; c < kPlanes; ++c) mask[c][lane] = f % kPlanes == c ? -1 : 0;
      }
      pixel[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(index));
      for (int c = 0; c < kPlanes; ++c)
        channel[v][c] = _mm256_castsi256_ps(_mm256_load_si256(reinterpret_cast<__m256i*>(mask[c])));
    }
    int64_t j = j0;
    for (; j + 8 <= j1; j += 8) {
      __m256 plane[kPlanes];
      for (int c = 0; c < kPlanes; ++c) plane[c] = _mm256_loadu_ps(x + c * cols + j);
      for (int v = 0; v < kPlanes; ++v) {
        __m256 out = _mm256_permutevar8x32_ps(plane[0], pixel[v]);
        for (int c = 1; c < kPlanes; ++c) {
          out = _mm256_blendv_ps(out, _mm256_permutevar8x32_ps(plane[c], pixel[v]), channel[v][c]);
        }
        _mm256_storeu_ps(y + j * kPlanes + 8 * v, out);
      }
    }
    interleave_columns<kPlanes>(x, cols, j, j1, y);
  }
};

}  // namespace

void interleave_ukernel__avx2(const float* x, int64_t planes, int64_t cols, int64_t j0, int64_t j1,
                              float* y) {
  interleave_with<Steps>(x, planes, cols, j0, j1, y);
}

}  // namespace xnorinfer
