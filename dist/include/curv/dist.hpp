// curv/dist.hpp: the whole dist module — data-parallel training over MPI
// (communicator.hpp; docs/distributed.md).
#pragma once

#include "curv/dist/communicator.hpp"
