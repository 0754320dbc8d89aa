// find_op, from the schema table (op_schema.cc), which names every op's factory.
#include "xnorinfer/ops/op_registry.h"

#include "xnorinfer/ops/op_schema.h"

namespace xnorinfer {

OpFactory find_op(const std::string& op) { return op_schema(op).factory; }

}  // namespace xnorinfer
