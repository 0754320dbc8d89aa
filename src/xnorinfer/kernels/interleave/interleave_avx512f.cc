// AVX-512 interleaving: 16 pixels per step. Each of the step's `planes` output vectors is
// gathered from the planes' vectors by VPERMPS, one per plane, each writing only the lanes that
// hold that plane's channel (the merge mask), so no lane moves through memory twice.
#include <immintrin.h>

#include "xnorinfer/kernels/interleave/interleave.h"
#include "xnorinfer/kernels/interleave/interleave_common.h"

namespace xnorinfer {
namespace {

// The vector steps of `kPlanes` planes, then the contract's loop for the last columns.
struct Steps {
  template <int kPlanes>
  static void run(const float* x, int64_t cols, int64_t j0, int64_t j1, float* y) {
    // Output vector v of a step holds its floats 16v..16v+15: float f is channel f % kPlanes of
    // the step's pixel f / kPlanes.
    __m512i pixel[kPlanes];
    __mmask16 channel[kPlanes][kPlanes] = {};
    for (int v = 0; v < kPlanes; ++v) {
      alignas(64) int32_t index[16];
      for (int lane = 0; lane < 16; ++lane) {
        const int f = 16 * v + lane;
        index[lane] = f / kPlanes;
        channel[v][f % kPlanes] |= static_cast<__mmask16>(1u << lane);
      }
      pixel[v] = _mm512_load_si512(index);
    }
    int64_t j = j0;
    for (; j + 16 <= j1; j += 16) {
      __m512 plane[kPlanes];
      for (int c = 0; c < kPlanes; ++c) plane[c] = _mm512_loadu_ps(x + c * cols + j);
      for (int v = 0; v < kPlanes; ++v) {
        __m512 out = _mm512_permutexvar_ps(pixel[v], plane[0]);
        for (int c = 1; c < kPlanes; ++c)
          out = _mm512_mask_permutexvar_ps(out, channel[v][c], pixel[v], plane[c]);
        _mm512_storeu_ps(y + j * kPlanes + 16 * v, out);
      }
    }
    interleave_columns<kPlanes>(x, cols, j, j1, y);
  }
};

}  // namespace

void interleave_ukernel__avx512f(const float* x, int64_t planes, int64_t cols, int64_t j0,
                                 int64_t j1, float* y) {
  interleave_with<Steps>(x, planes, cols, j0, j1, y);
}

}  // namespace xnorinfer
