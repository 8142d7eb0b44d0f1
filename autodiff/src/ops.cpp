// Explicit instantiations of every op for float and double: each op header's
// CURV_AD_EXPLICIT lines (see op.hpp), which are extern template declarations
// everywhere else, so that users' translation units compile only declarations.
#define CURV_AD_INSTANTIATE_OPS
#include "curv/autodiff.hpp"
