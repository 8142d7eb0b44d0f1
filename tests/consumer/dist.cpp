// Uses the installed curv::dist: a Session, this process's shard of a
// synthetic dataset, and a ModelObjective that sums over ranks — its loss,
// gradient and H·v against one holding the whole dataset (float64, 1e-13
// relative), and its minibatch gradients of one epoch likewise. Run as one
// process, and under mpirun when curv has MPI. Exits non-zero on a mismatch.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include <curv/datasets.hpp>
#include <curv/dist.hpp>
#include <curv/nn.hpp>

namespace {

double gap(const curv::Tensor<double>& a, const curv::Tensor<double>& b) {
  double d = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    d = std::max(d, std::abs(a.data()[i] - b.data()[i]));
    scale = std::max(scale, std::abs(b.data()[i]));
  }
  return d / scale;
}

}  // namespace

int main(int argc, char** argv) {
  curv::dist::Session session(argc, argv);
  const curv::dist::Communicator& world = session.world();
  namespace ds = curv::datasets;

  const std::size_t n = 41;
  std::mt19937_64 rng(3);
  curv::Tensor<double> x = curv::Tensor<double>::from_shape({n, 6});
  curv::Tensor<double> y = curv::Tensor<double>::from_shape({n});
  for (double& v : x) v = std::normal_distribution<double>(0, 1)(rng);
  for (double& v : y) v = static_cast<double>(rng() % 3);
  const ds::TensorDataset<double> whole(std::move(x), std::move(y));
  const curv::dist::Range mine = curv::dist::shard(n, world.rank(), world.size());
  std::vector<std::size_t> rows(mine.size());
  std::iota(rows.begin(), rows.end(), mine.begin);
  const ds::TensorDataset<double> part = ds::subset(whole, rows);

  curv::nn::Sequential<double> model;
  model.emplace<curv::nn::Linear<double>>("fc1", 6, 5);
  model.emplace<curv::nn::Tanh<double>>("tanh");
  model.emplace<curv::nn::Linear<double>>("fc2", 5, 3);
  const curv::nn::SoftmaxCrossEntropy<double> loss;
  ds::ModelObjectiveOptions one;
  one.batch_size = 4;
  one.threads = 1;
  ds::ModelObjectiveOptions sharded = one;
  sharded.reduce = world.reducer();
  sharded.first_row = mine.begin;
  ds::ModelObjective<double> reference(model, loss, whole, one), obj(model, loss, part, sharded);

  const curv::Tensor<double> w = model.initialize(1);
  curv::Tensor<double> v = curv::Tensor<double>::from_shape({w.size()});
  for (double& e : v) e = std::normal_distribution<double>(0, 1)(rng);
  curv::Tensor<double> g0, hv0, g1, hv1;
  const double f0 = reference.hvp(w, v, g0, hv0), f1 = obj.hvp(w, v, g1, hv1);
  double worst = std::max({std::abs(f1 - f0) / std::abs(f0), gap(g1, g0), gap(hv1, hv0)});
  reference.begin_epoch(2);
  obj.begin_epoch(2);
  for (std::size_t b = 0; b < obj.num_batches(); ++b) {
    const double m0 = reference.batch_value_and_grad(b, w, g0), m1 = obj.batch_value_and_grad(b, w, g1);
    worst = std::max({worst, std::abs(m1 - m0) / std::abs(m0), gap(g1, g0)});
  }
  if (world.is_root())
    std::printf("%d rank(s): loss, gradient, H.v and %zu minibatch gradients within %.2g of one process\n",
                world.size(), obj.num_batches(), worst);
  return worst <= 1e-13 ? 0 : 1;
}
