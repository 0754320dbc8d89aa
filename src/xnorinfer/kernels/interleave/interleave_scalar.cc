// Portable interleaving: the contract's loop.
#include "xnorinfer/kernels/interleave/interleave.h"
#include "xnorinfer/kernels/interleave/interleave_common.h"

namespace xnorinfer {

void interleave_ukernel__scalar(const float* x, int64_t planes, int64_t cols, int64_t j0,
                                int64_t j1, float* y) {
  interleave_columns(x, planes, cols, j0, j1, y);
}

}  // namespace xnorinfer
