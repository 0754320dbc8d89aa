// NEON interleaving: 4 pixels per step, by the structure stores ST2/ST3/ST4, which write
// `planes` vectors interleaved.
#include <arm_neon.h>

#include "xnorinfer/kernels/interleave/interleave.h"
#include "xnorinfer/kernels/interleave/interleave_common.h"

namespace xnorinfer {

void interleave_ukernel__neon(const float* x, int64_t planes, int64_t cols, int64_t j0, int64_t j1,
                              float* y) {
  const float* a = x;
  const float* b = x + cols;
  const float* c = x + 2 * cols;
  const float* d = x + 3 * cols;
  int64_t j = j0;
  switch (planes) {
    case 1:
      break;  // a copy: the loop below
    case 2:
      for (; j + 4 <= j1; j += 4)
        vst2q_f32(y + 2 * j, (float32x4x2_t{{vld1q_f32(a + j), vld1q_f32(b + j)}}));
      break;
    case 3:
      for (; j + 4 <= j1; j += 4) {
        vst3q_f32(y + 3 * j,
                  (float32x4x3_t{{vld1q_f32(a + j), vld1q_f32(b + j), vld1q_f32(c + j)}}));
      }
      break;
    default:
      for (; j + 4 <= j1; j += 4) {
        vst4q_f32(y + 4 * j, (float32x4x4_t{{vld1q_f32(a + j), vld1q_f32(b + j), vld1q_f32(c + j),
                                             vld1q_f32(d + j)}}));
      }
  }
  interleave_columns(x, planes, cols, j, j1, y);
}

}  // namespace xnorinfer
