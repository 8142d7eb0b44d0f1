// Explicit instantiations of the tape for curv's two scalar types.
#include "curv/autodiff/tape.hpp"

namespace curv::ad {

template class Tape<float>;
template class Tape<double>;

}  // namespace curv::ad
