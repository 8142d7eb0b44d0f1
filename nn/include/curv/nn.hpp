// curv/nn.hpp: the whole nn module — Module, Composite and Loss, layers,
// losses, the ops behind them, initialization, Gauss–Newton products, saving
// and loading, and the ready-made models.
#pragma once

#include "curv/nn/atomic_file.hpp"
#include "curv/nn/composite.hpp"
#include "curv/nn/fuse.hpp"
#include "curv/nn/gauss_newton.hpp"
#include "curv/nn/init.hpp"
#include "curv/nn/layers/activation.hpp"
#include "curv/nn/layers/activations.hpp"
#include "curv/nn/layers/conv2d.hpp"
#include "curv/nn/layers/flatten.hpp"
#include "curv/nn/layers/linear.hpp"
#include "curv/nn/layers/pooling.hpp"
#include "curv/nn/layers/sequential.hpp"
#include "curv/nn/loss.hpp"
#include "curv/nn/losses/mean_squared_error.hpp"
#include "curv/nn/losses/softmax_cross_entropy.hpp"
#include "curv/nn/models.hpp"
#include "curv/nn/module.hpp"
#include "curv/nn/ops/avg_pool2d.hpp"
#include "curv/nn/ops/conv2d.hpp"
#include "curv/nn/ops/conv2d_max_pool2d.hpp"
#include "curv/nn/ops/linear.hpp"
#include "curv/nn/ops/max_pool2d.hpp"
#include "curv/nn/ops/softmax_cross_entropy.hpp"
#include "curv/nn/serialize.hpp"
