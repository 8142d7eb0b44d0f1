// curv/autodiff.hpp: the whole autodiff module — Tape, Var, every op, the
// functional entry points (value_and_grad, jvp, hvp) and gradcheck.
#pragma once

#include "curv/autodiff/blas.hpp"
#include "curv/autodiff/functional.hpp"
#include "curv/autodiff/gradcheck.hpp"
#include "curv/autodiff/op.hpp"
#include "curv/autodiff/tape.hpp"
#include "curv/autodiff/tensor.hpp"

#include "curv/autodiff/ops/add.hpp"
#include "curv/autodiff/ops/exp.hpp"
#include "curv/autodiff/ops/log.hpp"
#include "curv/autodiff/ops/matmul.hpp"
#include "curv/autodiff/ops/mul.hpp"
#include "curv/autodiff/ops/reshape.hpp"
#include "curv/autodiff/ops/slice.hpp"
#include "curv/autodiff/ops/sub.hpp"
#include "curv/autodiff/ops/sum.hpp"
#include "curv/autodiff/ops/tanh.hpp"
