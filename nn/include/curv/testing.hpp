// curv/testing.hpp: curv's installed test kit, for ops and layers inside curv
// and in a user's own project (no test framework needed): the derivative
// checks of a function of a Var (<curv/autodiff/testing.hpp>) and of a
// Module (<curv/nn/testing.hpp>), each returning a Report or, as require_*,
// throwing CheckFailed naming the worst element.
#pragma once

#include "curv/autodiff/testing.hpp"
#include "curv/nn/testing.hpp"
