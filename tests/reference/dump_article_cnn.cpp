// Writes what curv computes for the article CNN on one random batch — the mean
// softmax cross-entropy, its gradient, H·v and the Gauss–Newton product G·v —
// for reference/pytorch/crosscheck.py to recompute in PyTorch (float64).
//
//   dump_article_cnn OUT_DIR [--batch N] [--seed S]
//
// OUT_DIR/
//   w.npz, v.npz                 parameters and direction, one entry per named parameter
//   grad.npz, hv.npz, gv.npz     ∇E, ∇²E·v and G·v of the batch-mean loss E, same names
//   w_flat.npy                   w as the flat vector curv's optimizers see (its order)
//   x.npy (N,1,28,28), y.npy (N) the inputs and the integer labels (stored as float64)
//   loss.npy (1)                 E(w)
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>

#include "curv/nn.hpp"

namespace {

using namespace curv;
namespace fs = std::filesystem;

int run(const fs::path& out, std::size_t batch, std::uint64_t seed) {
  const nn::Sequential<double> net = nn::models::article_cnn<double>();
  const nn::SoftmaxCrossEntropy<double> loss;
  const Tensor<double> w = net.initialize(seed);

  std::mt19937_64 rng(seed + 1);
  Tensor<double> x = Tensor<double>::from_shape({batch, 1, 28, 28});
  for (double& e : x) e = nn::standard_normal(rng);
  Tensor<double> y = Tensor<double>::from_shape({batch});
  std::uniform_int_distribution<int> label(0, 9);
  for (double& e : y) e = label(rng);
  Tensor<double> v = Tensor<double>::from_shape(w.shape());
  for (double& e : v) e = nn::standard_normal(rng);

  auto mean_loss = [&](const ad::Var<double>& wv) { return loss(net.forward(wv, wv.tape().constant(x)), y); };
  const ad::ValueAndGrad<double> vg = ad::value_and_grad(mean_loss, w);
  const ad::Hvp<double> h = ad::hvp(mean_loss, w, v);
  // gauss_newton_product sums over the batch; the mean loss's G·v is that over N.
  nn::GaussNewtonProduct<double> gn = nn::gauss_newton_product<double>(net, loss, w, x, y, v);
  const Tensor<double> gv = gn.gv / static_cast<double>(batch);

  fs::create_directories(out);
  nn::save_parameters(out / "w.npz", net, w);
  nn::save_parameters(out / "w_flat.npy", net, w);
  nn::save_parameters(out / "v.npz", net, v);
  nn::save_parameters(out / "grad.npz", net, vg.grad);
  nn::save_parameters(out / "hv.npz", net, h.hv);
  nn::save_parameters(out / "gv.npz", net, gv);
  nn::save_npy(out / "x.npy", x);
  nn::save_npy(out / "y.npy", y);
  nn::save_npy(out / "loss.npy", Tensor<double>{vg.value});

  std::cout.precision(17);
  std::cout << "dump_article_cnn: batch " << batch << ", seed " << seed << ", " << net.num_parameters()
            << " parameters, loss " << vg.value << " (hvp's loss " << h.value << ", gauss-newton's "
            << gn.loss / static_cast<double>(batch) << ") -> " << out.string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2) {
      std::cerr << "usage: dump_article_cnn OUT_DIR [--batch N] [--seed S]\n";
      return 2;
    }
    const fs::path out = argv[1];
    std::size_t batch = 8;
    std::uint64_t seed = 7;
    for (int i = 2; i < argc; ++i) {
      const std::string a = argv[i];
      if ((a == "--batch" || a == "--seed") && i + 1 < argc) {
        const unsigned long long n = std::stoull(argv[++i]);
        if (a == "--batch") batch = n; else seed = n;
      } else {
        std::cerr << "dump_article_cnn: unknown argument '" << a << "'\n";
        return 2;
      }
    }
    if (batch == 0) throw std::invalid_argument("dump_article_cnn: --batch must be at least 1");
    return run(out, batch, seed);
  } catch (const std::exception& e) {
    std::cerr << "dump_article_cnn: " << e.what() << "\n";
    return 1;
  }
}
