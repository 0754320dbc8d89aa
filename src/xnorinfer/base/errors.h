// The engine's exceptions (declared in the public include/xnorinfer/errors.h), and XI_DCHECK.
#pragma once

#include "xnorinfer/errors.h"

// Checks an invariant in debug builds only (hot paths). Release builds compile it out.
#ifdef NDEBUG
#define XI_DCHECK(cond) ((void)0)
#else
#include <cassert>
#define XI_DCHECK(cond) assert(cond)
#endif
