// curv/datasets.hpp: the whole datasets module — datasets, their provenance
// and splits, IDX files and the MNIST / Fashion-MNIST loaders, the
// DataLoader, the Accumulator, ModelObjective, the predict helpers and the
// Validation callback.
#pragma once

#include "curv/datasets/accumulator.hpp"
#include "curv/datasets/data_loader.hpp"
#include "curv/datasets/dataset.hpp"
#include "curv/datasets/idx.hpp"
#include "curv/datasets/l2_groups.hpp"
#include "curv/datasets/mnist_json.hpp"
#include "curv/datasets/model_objective.hpp"
#include "curv/datasets/predict.hpp"
#include "curv/datasets/provenance.hpp"
#include "curv/datasets/split.hpp"
#include "curv/datasets/validation.hpp"
