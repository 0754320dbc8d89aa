// Shapes are vectors of int64 extents in engine order (NHWC for spatial activations).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xnorinfer {

using Shape = std::vector<int64_t>;

// Product of the extents; 1 for a scalar. Caller guarantees non-negative extents.
int64_t num_elements(const Shape& shape);

// "[2, 8, 8, 64]"
std::string to_string(const Shape& shape);

}  // namespace xnorinfer
