// curv's one atomic file writer: a file holds its old content or its complete
// new content, and what killed writes leave behind is swept by name.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "curv/nn/atomic_file.hpp"

namespace {

namespace fs = std::filesystem;

class AtomicFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("curv_atomic_file_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  fs::path dir_;
};

TEST_F(AtomicFile, AFailedWriteLeavesTheOldContentAndNoTemporaryFile) {
  const fs::path p = dir_ / "atomic.txt";
  curv::nn::write_file_atomic(p, [](std::ostream& o) { o << "old"; });
  EXPECT_THROW(curv::nn::write_file_atomic(p, [](std::ostream& o) {
                 o << "half";
                 throw std::runtime_error("disk full");
               }),
               std::runtime_error);
  EXPECT_EQ(slurp(p), "old");
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

TEST_F(AtomicFile, StaleTemporaryFilesOfTheNamedFilesAreSweptAndNothingElse) {
  for (const char* name : {"model.npz.tmp.12.0", "model.npz.tmp-99-1", "checkpoint.curv.tmp.3.4", "other.tmp.1.2",
                           "model.npz"}) {
    std::ofstream(dir_ / name) << "x";
  }
  const auto removed = curv::nn::remove_stale_temp_files(dir_, {"model.npz", "checkpoint.curv"});
  EXPECT_EQ(removed.size(), 3u);
  EXPECT_TRUE(fs::exists(dir_ / "other.tmp.1.2"));
  EXPECT_TRUE(fs::exists(dir_ / "model.npz"));
}

}  // namespace
