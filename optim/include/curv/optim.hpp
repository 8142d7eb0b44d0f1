// curv/optim.hpp: the whole optim module — the Objective concepts,
// make_objective, SCG, SGD, Adam/AdamW (with learning-rate schedules,
// schedule.hpp, and gradient clipping, clip.hpp), L-BFGS, NonlinearCG,
// HessianFree, TrustRegionNewtonCG and their state I/O (state_io.hpp), the
// L2 penalty adaptor (l2_penalty.hpp), options, results, traces, callbacks
// (callback.hpp) and the shipped ones (callbacks.hpp: early stopping, CSV
// logging, progress, checkpoints).
#pragma once

#include "curv/optim/adam.hpp"
#include "curv/optim/callback.hpp"
#include "curv/optim/callbacks.hpp"
#include "curv/optim/clip.hpp"
#include "curv/optim/csv_log.hpp"
#include "curv/optim/function_objective.hpp"
#include "curv/optim/hessian_free.hpp"
#include "curv/optim/l2_penalty.hpp"
#include "curv/optim/lbfgs.hpp"
#include "curv/optim/line_search.hpp"
#include "curv/optim/nonlinear_cg.hpp"
#include "curv/optim/objective.hpp"
#include "curv/optim/reductions.hpp"
#include "curv/optim/result.hpp"
#include "curv/optim/scg.hpp"
#include "curv/optim/schedule.hpp"
#include "curv/optim/sgd.hpp"
#include "curv/optim/state_io.hpp"
#include "curv/optim/trust_region.hpp"
