// Saving and loading parameters: bit-exact round trips, the file layout NumPy
// reads, atomic writes, and errors that name the parameter that differs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness.hpp"

namespace {

using namespace curv;
using namespace curv::nn;
using namespace curv::nn::testing;
namespace fs = std::filesystem;

class Serialize : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("curv_nn_serialize_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Serialize, NpzRoundTripIsBitExact) {
  const Sequential<double> net = models::article_cnn<double>();
  const Tensor<double> w = net.initialize(1);
  save_parameters(dir_ / "cnn.npz", net, w);
  EXPECT_EQ(load_parameters(dir_ / "cnn.npz", net), w);

  const Sequential<float> net32 = models::mlp<float>({5, 4, 3});
  const Tensor<float> w32 = net32.initialize(2);
  save_parameters(dir_ / "mlp.npz", net32, w32);
  EXPECT_EQ(load_parameters(dir_ / "mlp.npz", net32), w32);
  // Only the archive is left behind: the temporary file was renamed.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 2);
}

TEST_F(Serialize, NpzHoldsOneNamedNpyArrayPerParameter) {
  const Sequential<double> net = models::mlp<double>({3, 2});
  const Tensor<double> w = net.initialize(3);
  save_parameters(dir_ / "p.npz", net, w);
  const std::map<std::string, Tensor<double>> arrays = load_npz<double>(dir_ / "p.npz");
  ASSERT_EQ(arrays.size(), 2u);
  EXPECT_EQ(arrays.at("fc1.weight"), net.parameter_value(w, "fc1.weight"));
  EXPECT_EQ(arrays.at("fc1.bias").shape(), (xt::svector<std::size_t>{2}));
  std::ifstream in(dir_ / "p.npz", std::ios::binary);
  std::string head(4, '\0');
  in.read(head.data(), 4);
  EXPECT_EQ(head, std::string("PK\x03\x04", 4));  // a ZIP local file header
}

TEST_F(Serialize, NpyOfTheFlatVector) {
  const Sequential<float> net = models::mlp<float>({4, 3});
  const Tensor<float> w = net.initialize(4);
  save_parameters(dir_ / "w.npy", net, w);
  EXPECT_EQ(load_parameters(dir_ / "w.npy", net), w);
  std::ifstream in(dir_ / "w.npy", std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(file.substr(0, 6), "\x93NUMPY");
  EXPECT_NE(file.find("'descr': '<f4', 'fortran_order': False, 'shape': (15,)"), std::string::npos);
  EXPECT_EQ((file.size() - 15 * 4) % 64, 0u);  // NumPy aligns the data to 64 bytes
  // A float64 reader converts.
  EXPECT_EQ(load_npy<double>(dir_ / "w.npy"), widen(w));
}

TEST_F(Serialize, MismatchedFileNamesTheParameterAndBothShapes) {
  const Sequential<double> saved = models::mlp<double>({4, 3, 2});
  save_parameters(dir_ / "a.npz", saved, saved.initialize(1));
  const std::string msg = error_of([&] { load_parameters(dir_ / "a.npz", models::mlp<double>({4, 5, 2})); });
  EXPECT_NE(msg.find("'fc1.weight'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(3, 4)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(5, 4)"), std::string::npos) << msg;

  const std::string missing = error_of([&] { load_parameters(dir_ / "a.npz", models::mlp<double>({4, 3, 2, 2})); });
  EXPECT_NE(missing.find("'fc3.weight'"), std::string::npos) << missing;
  EXPECT_NE(missing.find("missing"), std::string::npos) << missing;

  const std::string extra = error_of([&] { load_parameters(dir_ / "a.npz", models::mlp<double>({4, 3})); });
  EXPECT_NE(extra.find("'fc2."), std::string::npos) << extra;

  save_parameters(dir_ / "a.npy", saved, saved.initialize(1));
  const std::string flat = error_of([&] { load_parameters(dir_ / "a.npy", models::mlp<double>({4, 5, 2})); });
  EXPECT_NE(flat.find("(23,)"), std::string::npos) << flat;
  EXPECT_NE(flat.find("(37,)"), std::string::npos) << flat;
}

TEST_F(Serialize, CorruptAndMissingFilesFailClearly) {
  const Sequential<double> net = models::mlp<double>({3, 2});
  EXPECT_NE(error_of([&] { load_parameters(dir_ / "none.npz", net); }).find("cannot open"), std::string::npos);
  save_parameters(dir_ / "p.npz", net, net.initialize(1));
  {
    std::fstream f(dir_ / "p.npz", std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(120);  // inside the first entry
    f.put('\x7f');
  }
  const std::string msg = error_of([&] { load_parameters(dir_ / "p.npz", net); });
  EXPECT_NE(msg.find("CRC-32"), std::string::npos) << msg;
  EXPECT_THROW(save_parameters(dir_ / "p.npz", net, Tensor<double>(xt::zeros<double>({3}))), std::invalid_argument);
}

}  // namespace
