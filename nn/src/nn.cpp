// Explicit instantiations of curv::nn's header-defined classes for float and
// double (the other layers instantiate themselves in their own sources).
#include "curv/nn.hpp"

namespace curv::nn {

template class Flatten<float>;
template class Flatten<double>;
template class Tanh<float>;
template class Tanh<double>;
template class ReLU<float>;
template class ReLU<double>;
template class Sigmoid<float>;
template class Sigmoid<double>;

}  // namespace curv::nn
