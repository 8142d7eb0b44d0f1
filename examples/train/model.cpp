// curv-train's model: built, bounded by memory, initialized, saved.
#include "train/model.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <curv/optim.hpp>

#include "train/data.hpp"
#include "train/messages.hpp"
#include "train/optimizers.hpp"

namespace curv::examples {

namespace fs = std::filesystem;
namespace ds = curv::datasets;
namespace opt = curv::optim;

namespace {

// Bytes of memory this process may use: the machine's, or its cgroup's limit when lower.
double memory_limit() {
  double bytes = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE));
  std::ifstream cgroup("/sys/fs/cgroup/memory.max");
  double limit = 0;
  if (cgroup >> limit && limit > 0) bytes = std::min(bytes, limit);
  return bytes;
}

std::string gib(double bytes) {
  char s[32];
  std::snprintf(s, sizeof s, "%.1f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return s;
}

}  // namespace

// --hidden is bounded by memory: an MLP too large for this machine is refused
// before anything is allocated for it. In double, so that --hidden near 2⁶⁴
// does not wrap.
void check_mlp_fits(const TrainConfig& c, const Shape& example) {
  if (c.model != "mlp") return;
  double in = 1;
  for (std::size_t e : example) in *= static_cast<double>(e);
  const double h = static_cast<double>(c.hidden);
  const double parameters = in * h + h + h * kClasses + kClasses;
  const double bytes = parameters * (c.dtype == "float64" ? 8 : 4) * find_optimizer(c.optimizer).vectors_held;
  if (bytes > memory_limit())
    bad_option("--hidden", std::to_string(c.hidden),
               "the MLP would have " + num(parameters) + " parameters; their weights, gradients and " + c.optimizer +
                   " state alone need " + gib(bytes) + ", this machine has " + gib(memory_limit()));
}

// The parameters a fresh run starts from: --init FILE, else the seeded initialization.
template <class T>
Tensor<T> initial_parameters(const TrainConfig& c, const nn::Module<T>& model) {
  if (c.init.empty()) return model.initialize(ds::mix_seed(c.seed, 0));
  if (!fs::exists(c.init)) bad_option("--init", c.init, "no such file");
  Tensor<T> w = nn::load_parameters<T>(c.init, model);  // names and shapes checked, the first difference named
  if (const std::size_t i = opt::first_non_finite(w); i != opt::NonFiniteError::npos) {
    std::string where = "element " + std::to_string(i);
    for (const nn::ParameterInfo& p : model.parameters())
      if (i >= p.offset && i < p.offset + p.size()) where = p.name + "[" + std::to_string(i - p.offset) + "]";
    bad_option("--init", c.init, where + " = " + num(static_cast<double>(w.data()[i])) + ": expected finite parameters");
  }
  return w;
}

// --save-model: the final parameters of a completed run (an interrupted one
// has a checkpoint instead).
template <class T>
void save_model(const std::string& path, const nn::Module<T>& model, const Tensor<T>& w) {
  const fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  nn::save_parameters(p, model, w);
}

namespace {

// `net` with a Dropout(p) called "dropout" before its last child (p > 0):
// the parameters and their names stay those of `net`.
template <class T>
nn::Sequential<T> with_dropout(const nn::Sequential<T>& net, double p) {
  if (p == 0) return net;
  nn::Sequential<T> out;
  for (std::size_t i = 0; i < net.size(); ++i) {
    if (i + 1 == net.size()) out.template emplace<nn::Dropout<T>>("dropout", p);
    out.add(net.name(i), net.shared_child(i));
  }
  return out;
}

}  // namespace

template <class T>
std::unique_ptr<nn::Module<T>> make_model(const TrainConfig& c, const Shape& example) {
  if (c.model == "article-cnn") {
    if (example != Shape{1, 28, 28})
      throw std::invalid_argument("--model article-cnn expects 1×28×28 images, the dataset has " + shape_string(example));
    return std::make_unique<nn::Sequential<T>>(with_dropout(nn::models::article_cnn<T>(c.kernel_size), c.dropout));
  }
  std::size_t in = 1;
  for (std::size_t e : example) in *= e;
  auto m = std::make_unique<nn::Sequential<T>>();
  m->template emplace<nn::Flatten<T>>("flatten");
  m->add("mlp", std::make_shared<const nn::Sequential<T>>(with_dropout(nn::models::mlp<T>({in, c.hidden, 10}), c.dropout)));
  return m;
}

#define CURV_TRAIN_MODEL_INSTANTIATE(T)                                                      \
  template std::unique_ptr<nn::Module<T>> make_model(const TrainConfig&, const Shape&);      \
  template Tensor<T> initial_parameters(const TrainConfig&, const nn::Module<T>&);           \
  template void save_model(const std::string&, const nn::Module<T>&, const Tensor<T>&);
CURV_TRAIN_MODEL_INSTANTIATE(float)
CURV_TRAIN_MODEL_INSTANTIATE(double)

}  // namespace curv::examples
