// curv-train's checkpoint reader against hostile files: the header checked
// first, every size in the file capped by the bytes that are really there,
// one record per name, and no allocation from an unchecked size.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "../fuzz/fuzz_input.hpp"
#include "train/checkpoint.hpp"

namespace {

namespace fs = std::filesystem;
using curv::Tensor;
using curv::examples::Checkpoint;
using curv::examples::CheckpointError;
using curv::fuzz::Bytes;

class CheckpointReader : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("curv-checkpoint-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The message of Checkpoint::read's refusal of the file `bytes`.
  std::string refusal(const std::string& name, const Bytes& bytes) const {
    curv::fuzz::write_file(dir_ / name, bytes);
    return refusal_of(dir_ / name);
  }
  static std::string refusal_of(const fs::path& p) {
    try {
      Checkpoint::read(p);
    } catch (const CheckpointError& e) {
      return e.what();
    }
    ADD_FAILURE() << p << " was accepted";
    return "";
  }

  fs::path dir_;
};

void put64(Bytes& b, std::uint64_t v) {
  curv::fuzz::put32(b, static_cast<std::uint32_t>(v));
  curv::fuzz::put32(b, static_cast<std::uint32_t>(v >> 32));
}

Bytes record(std::uint8_t kind, const std::string& name, const Bytes& value) {
  Bytes b{kind};
  curv::fuzz::put32(b, static_cast<std::uint32_t>(name.size()));
  b.insert(b.end(), name.begin(), name.end());
  b.insert(b.end(), value.begin(), value.end());
  return b;
}

Bytes counter(const std::string& name, std::uint64_t v) {
  Bytes value;
  put64(value, v);
  return record(3, name, value);
}

Bytes tensor(const std::string& name, std::uint8_t element_size, std::uint64_t count, std::size_t data_bytes) {
  Bytes value{element_size};
  put64(value, count);
  value.resize(value.size() + data_bytes, 0);
  return record(4, name, value);
}

// A checkpoint file around `payload`, with a correct length and checksum; the
// payload starts at byte 20 of the file, where the reader's offsets count from.
Bytes file_of(const Bytes& payload) {
  Bytes b{'C', 'U', 'R', 'V', 'C', 'K', 'P', 'T'};
  curv::fuzz::put32(b, 1);
  put64(b, payload.size());
  b.insert(b.end(), payload.begin(), payload.end());
  put64(b, curv::fuzz::fnv1a(payload.data(), payload.size()));
  return b;
}

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(CheckpointReader, ReadsWhatWasWrittenBitForBit) {
  Checkpoint c;
  c.settings["dataset"] = "mnist";
  c.scalars["lambda"] = 1e-300;
  c.counters["iteration"] = 7;
  c.put_tensor("w", Tensor<double>{1.0, -0.0, 3.5});
  c.put_tensor("p", Tensor<float>{2.f});
  c.write(dir_ / "c.curv");
  const Checkpoint r = Checkpoint::read(dir_ / "c.curv");
  EXPECT_EQ(r.settings, c.settings);
  EXPECT_EQ(r.scalars, c.scalars);
  EXPECT_EQ(r.counters, c.counters);
  EXPECT_EQ(r.tensor<double>("w", 3), (Tensor<double>{1.0, -0.0, 3.5}));
  EXPECT_EQ(r.tensor<float>("p"), (Tensor<float>{2.f}));
  // The same records written by hand read the same.
  EXPECT_EQ(Checkpoint::read(dir_ / "c.curv").counter("iteration"), 7u);
  curv::fuzz::write_file(dir_ / "hand.curv", file_of(counter("iteration", 7) + tensor("w", 8, 2, 16)));
  EXPECT_EQ(Checkpoint::read(dir_ / "hand.curv").tensor<double>("w", 2), (Tensor<double>{0.0, 0.0}));
}

// The whole file used to be read before its 20-byte header was checked.
TEST_F(CheckpointReader, HeaderIsCheckedBeforeTheBodyOfASparseFile) {
  Bytes head{'C', 'U', 'R', 'V', 'C', 'K', 'P', 'T'};
  curv::fuzz::put32(head, 1);
  put64(head, 0);
  const fs::path p = dir_ / "sparse.curv";
  curv::fuzz::write_file(p, head);
  ASSERT_EQ(::truncate(p.c_str(), off_t(2) << 30), 0);
  const std::string msg = refusal_of(p);
  EXPECT_TRUE(contains(msg, "payload of 0 bytes announced at byte 12, but the file holds 2147483620")) << msg;
  Bytes huge = head;
  huge[12] = 0, huge[19] = 0x80;  // 2^63
  EXPECT_TRUE(contains(refusal("huge.curv", huge + Bytes(8, 0)), "payload of 9223372036854775808 bytes announced"));
  if (curv::fuzz::address_sanitizer) GTEST_SKIP() << "AddressSanitizer's reservations defeat RLIMIT_AS";
  EXPECT_EQ(curv::fuzz::run_with_memory_limit<CheckpointError>(64 << 20, [&] { Checkpoint::read(p); }),
            curv::fuzz::ChildOutcome::threw_expected);
}

// 2^61 + 1 elements of 8 bytes wrapped around to 8 bytes: a one-element tensor was accepted.
TEST_F(CheckpointReader, ElementCountsAreCappedByThePayload) {
  std::string msg = refusal("wrap.curv", file_of(tensor("w", 8, (std::uint64_t(1) << 61) + 1, 8)));
  EXPECT_TRUE(contains(msg, "tensor 'w' at byte 20 claims 2305843009213693953 elements of 8 bytes, but only 8 bytes "
                            "of the payload are left")) << msg;
  msg = refusal("big.curv", file_of(counter("epoch", 1) + tensor("m", 4, std::uint64_t(1) << 40, 0)));
  EXPECT_TRUE(contains(msg, "tensor 'm' at byte 38 claims 1099511627776 elements")) << msg;
  Bytes name_claim{3};
  curv::fuzz::put32(name_claim, 0xffffffffu);
  msg = refusal("name.curv", file_of(name_claim + Bytes{'x'}));
  EXPECT_TRUE(contains(msg, "truncated record: record name at byte 25 needs 4294967295 bytes, 1 left")) << msg;
}

TEST_F(CheckpointReader, ElementSizeMustBeFourOrEight) {
  const std::string msg = refusal("size.curv", file_of(tensor("w", 3, 1, 3)));
  EXPECT_TRUE(contains(msg, "tensor 'w' at byte 20 has element size 3, expected 4 or 8")) << msg;
}

// A second record of a name silently replaced the first (e.g. iteration = 2^64 − 1 after a good one).
TEST_F(CheckpointReader, ASecondRecordOfTheSameNameIsRefused) {
  const Bytes first = counter("iteration", 1);
  const std::string msg =
      refusal("dup.curv", file_of(first + counter("iteration", ~std::uint64_t(0))));
  EXPECT_TRUE(contains(msg, "a second counter record 'iteration' at byte " + std::to_string(20 + first.size()) +
                                " (expected one record per name)")) << msg;
  EXPECT_FALSE(refusal("dupw.curv", file_of(tensor("w", 8, 1, 8) + tensor("w", 8, 1, 8))).empty());
  // Different kinds are different fields.
  curv::fuzz::write_file(dir_ / "kinds.curv", file_of(counter("epoch", 1) + tensor("epoch", 8, 0, 0)));
  EXPECT_NO_THROW(Checkpoint::read(dir_ / "kinds.curv"));
}

TEST_F(CheckpointReader, UnknownKindsAndForeignFilesAreRefusedByName) {
  std::string msg = refusal("kind.curv", file_of(counter("a", 1) + record(9, "b", {})));
  EXPECT_TRUE(contains(msg, "unknown record kind 9 at byte 34 (expected 1 to 4)")) << msg;
  fs::create_directory(dir_ / "folder.curv");
  EXPECT_TRUE(contains(refusal_of(dir_ / "folder.curv"), "is a directory, expected a checkpoint file"));
  EXPECT_TRUE(contains(refusal_of("/dev/null"), "/dev/null: is not a regular file"));
  EXPECT_TRUE(contains(refusal("short.curv", Bytes(27, 0)), "file of 27 bytes is too short to be a checkpoint"));
  EXPECT_TRUE(contains(refusal_of(dir_ / "none.curv"), "cannot open it"));
}

// Every input kept in tests/fuzz is either read or refused with
// CheckpointError: no other exception, and under the sanitizer build no memory error.
TEST_F(CheckpointReader, FuzzCorporaAreReadOrRefusedCleanly) {
  std::size_t inputs = 0;
  for (const char* kind : {"corpus", "regression"}) {
    for (const auto& e : fs::directory_iterator(fs::path(CURV_FUZZ_DIR) / kind / "checkpoint")) {
      std::ifstream in(e.path(), std::ios::binary);
      const Bytes input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const fs::path file = curv::fuzz::checkpoint_input(input.data(), input.size());
      try {
        Checkpoint::read(file);
      } catch (const CheckpointError&) {
      }
      fs::remove(file);
      ++inputs;
    }
  }
  EXPECT_GE(inputs, 8u);
}

}  // namespace
