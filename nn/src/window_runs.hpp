// The pooling loops of the fused conv2d_max_pool2d op when 2×2 windows tile
// the convolution's output, whose planes it stores as four runs of Q pooled
// positions, one per window element e = 2·(h%2) + w%2 (see
// conv2d_max_pool2d.cpp): plane o of z holds z[o·4Q + e·Q + q].
//
// Plain loops over the runs, in 64-byte vectors (GCC's vector extensions)
// with clones for AVX2 and AVX-512 CPUs chosen at load time: the 2-byte
// choices next to 4- or 8-byte values keep GCC from vectorizing these loops
// on its own (on the baseline SSE2 a select on them was slower than scalar
// code). They only compare, select and add the bias: the same bits on every
// CPU.
#pragma once

#include <cstddef>

#include "curv/nn/ops/max_pool2d.hpp"

namespace curv::nn::ops::detail {

// y[o·Q + q] = max_e (z[o·4Q + e·Q + q] + bias[o]) (bias may be null: nothing
// added), ch[o·Q + q] = the first e holding it: max_pool2d's values and
// choices, in std::max's order.
void pool_window_runs(const float* z, const float* bias, std::size_t planes, std::size_t q, float* y, Choice* ch);
void pool_window_runs(const double* z, const double* bias, std::size_t planes, std::size_t q, double* y,
                      Choice* ch);

// zbar[o·4Q + e·Q + q] = u[o·Q + q] where ch[o·Q + q] = e, else 0 (all written).
void scatter_window_runs(const Choice* ch, const float* u, std::size_t planes, std::size_t q, float* zbar);
void scatter_window_runs(const Choice* ch, const double* u, std::size_t planes, std::size_t q, double* zbar);

// out[o·Q + q] = z[o·4Q + ch[o·Q + q]·Q + q].
void gather_window_runs(const Choice* ch, const float* z, std::size_t planes, std::size_t q, float* out);
void gather_window_runs(const Choice* ch, const double* z, std::size_t planes, std::size_t q, double* out);

}  // namespace curv::nn::ops::detail
