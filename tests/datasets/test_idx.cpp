// The IDX reader and writer against hand-made good and corrupt files, and
// against hostile ones: sparse files far larger than their header says,
// gzip bombs, trailing data after the gzip stream, directories and devices.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../fuzz/fuzz_input.hpp"
#include "curv/datasets/idx.hpp"

namespace {

namespace fs = std::filesystem;
using curv::datasets::IdxError;
using Bytes = std::vector<std::uint8_t>;
using curv::Tensor;

// A fresh folder per test, removed afterwards.
class Idx : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("curv-idx-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write_raw(const std::string& name, const Bytes& bytes) const {
    const fs::path p = dir_ / name;
    if (p.extension() == ".gz") {
      gzFile gz = gzopen(p.c_str(), "wb");
      gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
      gzclose(gz);
    } else {
      std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                               static_cast<std::streamsize>(bytes.size()));
    }
    return p;
  }

  fs::path dir_;
};

void put32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

// count images of rows × cols with pixel (i, r, c) = (i + r + c) % 256.
Bytes images_file(std::uint32_t count, std::uint32_t rows, std::uint32_t cols) {
  Bytes b{0, 0, 8, 3};
  put32(b, count);
  put32(b, rows);
  put32(b, cols);
  for (std::uint32_t i = 0; i < count; ++i)
    for (std::uint32_t r = 0; r < rows; ++r)
      for (std::uint32_t c = 0; c < cols; ++c) b.push_back(static_cast<std::uint8_t>((i + r + c) % 256));
  return b;
}

Bytes labels_file(const Bytes& labels) {
  Bytes b{0, 0, 8, 1};
  put32(b, static_cast<std::uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

// The reader must throw IdxError naming the file, the offset and what it expected.
void expect_idx_error(const fs::path& file, std::uint64_t offset, const std::string& expected_text,
                      bool images = true) {
  try {
    if (images)
      curv::datasets::read_idx_images<float>(file);
    else
      curv::datasets::read_idx_labels<float>(file);
    FAIL() << "expected IdxError for " << file;
  } catch (const IdxError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.file(), file);
    EXPECT_EQ(e.offset(), offset) << what;
    EXPECT_NE(what.find(file.string()), std::string::npos) << what;
    EXPECT_NE(what.find("byte offset " + std::to_string(offset)), std::string::npos) << what;
    EXPECT_NE(what.find("expected"), std::string::npos) << what;
    EXPECT_NE(what.find(expected_text), std::string::npos) << what;
  }
}

TEST_F(Idx, ReadsImagesScaledToUnitIntervalWithAChannelAxis) {
  const auto p = write_raw("images", images_file(3, 2, 4));
  const Tensor<double> x = curv::datasets::read_idx_images<double>(p);
  ASSERT_EQ(x.shape(), (curv::Shape{3, 1, 2, 4}));
  EXPECT_EQ(x(2, 0, 1, 3), 6.0 / 255.0);
  EXPECT_EQ(x(0, 0, 0, 0), 0.0);
  const Bytes full{0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 255, 51};
  const Tensor<float> y = curv::datasets::read_idx_images<float>(write_raw("full", full));
  EXPECT_EQ(y(0, 0, 0, 0), 1.0f);
  EXPECT_EQ(y(0, 0, 0, 1), 0.2f);
}

TEST_F(Idx, ReadsLabelsAsExactClassIndices) {
  const auto p = write_raw("labels", labels_file({3, 0, 9, 255}));
  const Tensor<float> y = curv::datasets::read_idx_labels<float>(p);
  EXPECT_EQ(y, (Tensor<float>{3.f, 0.f, 9.f, 255.f}));
}

TEST_F(Idx, ReadsGzipFilesLikePlainOnes) {
  const Bytes raw = images_file(5, 3, 3);
  const auto plain = curv::datasets::read_idx_images<double>(write_raw("a", raw));
  const auto gz = curv::datasets::read_idx_images<double>(write_raw("a.gz", raw));
  EXPECT_EQ(plain, gz);
}

TEST_F(Idx, WriterRoundTripsPlainAndGzipAndLeavesNoTemporaryFiles) {
  const std::array<std::size_t, 3> dims{2, 3, 2};
  const Bytes data{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255};
  for (const std::string name : {"w-idx3-ubyte", "w-idx3-ubyte.gz"}) {
    curv::datasets::write_idx(dir_ / name, dims, data);
    curv::datasets::write_idx(dir_ / name, dims, data);  // overwrites atomically
    const auto a = curv::datasets::read_idx(dir_ / name, 3);
    EXPECT_EQ(a.dims, (std::vector<std::size_t>{2, 3, 2}));
    EXPECT_EQ(a.data, data);
  }
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    ++files;
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
  }
  EXPECT_EQ(files, 2u);
  const std::array<std::size_t, 1> wrong{5};
  EXPECT_THROW(curv::datasets::write_idx(dir_ / "x", wrong, data), std::invalid_argument);
  EXPECT_THROW(curv::datasets::write_idx(dir_ / "missing" / "x", dims, data), std::runtime_error);
  EXPECT_FALSE(fs::exists(dir_ / "missing"));
}

TEST_F(Idx, EmptyFileIsAnErrorAtOffsetZero) {
  expect_idx_error(write_raw("empty", {}), 0, "the file is empty; expected magic number 0x00000803");
  expect_idx_error(write_raw("empty.gz", {}), 0, "the file is empty");
}

TEST_F(Idx, WrongMagicNumberNamesWhatWasExpectedAndFound) {
  // A labels file where images were asked for.
  expect_idx_error(write_raw("swapped", labels_file({1, 2})), 0,
                   "expected magic number 0x00000803 (IDX of unsigned bytes with 3 dimensions), found 0x00000801");
  expect_idx_error(write_raw("swapped2", images_file(1, 1, 1)), 0, "found 0x00000803", false);
  expect_idx_error(write_raw("png", {0x89, 'P', 'N', 'G', 0, 0, 0, 0}), 0, "(not an IDX file)");
  expect_idx_error(write_raw("floats", {0, 0, 0x0d, 3, 0, 0, 0, 0}), 0, "type byte 0d");
}

TEST_F(Idx, TruncatedHeaderAndTruncatedDataAreErrorsAtTheEndOfFile) {
  expect_idx_error(write_raw("short", {0, 0}), 2, "truncated header");
  Bytes header = images_file(1, 2, 2);
  header.resize(10);  // inside the second dimension
  expect_idx_error(write_raw("halfheader", header), 10, "expected dimension 1 of 3");
  Bytes data = images_file(4, 3, 3);
  data.resize(data.size() - 5);
  expect_idx_error(write_raw("truncated", data), data.size(), "truncated data: dimensions (4, 3, 3) need 36 bytes");
  expect_idx_error(write_raw("truncated.gz", data), data.size(), "of the decompressed data");
  Bytes labels = labels_file({1, 2, 3});
  labels.pop_back();
  expect_idx_error(write_raw("labels", labels), labels.size(), "need 3 bytes", false);
}

TEST_F(Idx, TrailingBytesAreAnError) {
  Bytes b = images_file(2, 2, 2);
  b.push_back(7);
  expect_idx_error(write_raw("long", b), b.size() - 1, "expected end of file after dimensions (2, 2, 2)");
}

TEST_F(Idx, AbsurdDimensionsAreErrorsAtTheirOffset) {
  Bytes zero_rows = images_file(1, 2, 2);
  zero_rows[8 + 3] = 0;  // rows = 0
  expect_idx_error(write_raw("zero", zero_rows), 8, "expected dimension 1 between 1 and 2147483647, found 0");
  Bytes huge = {0, 0, 8, 3};
  put32(huge, 1);
  put32(huge, 28);
  put32(huge, 0xffffffffu);
  expect_idx_error(write_raw("huge", huge), 12, "found 4294967295 (absurd dimensions)");
  Bytes big = {0, 0, 8, 3};  // each fine, but far more bytes than the file has
  put32(big, 0x7fffffffu);
  put32(big, 0x7fffffffu);
  put32(big, 0x7fffffffu);
  expect_idx_error(write_raw("big", big), 4, "whose product fits in memory");
}

TEST_F(Idx, CorruptGzipStreamIsAnErrorNamingZlib) {
  const auto p = write_raw("c.gz", images_file(50, 28, 28));
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bytes.resize(bytes.size() / 2);
  const fs::path cut = dir_ / "cut.gz";  // the compressed stream cut in half, written as is
  std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  try {
    curv::datasets::read_idx_images<float>(cut);
    FAIL();
  } catch (const IdxError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(cut.string()), std::string::npos) << what;
    EXPECT_NE(what.find("expected a complete gzip stream"), std::string::npos) << what;
    EXPECT_NE(what.find("byte offset " + std::to_string(e.offset())), std::string::npos) << what;
  }
}

TEST_F(Idx, MissingFileIsAnErrorNamingIt) {
  try {
    curv::datasets::read_idx_images<float>(dir_ / "nothing");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open '" + (dir_ / "nothing").string() + "'"), std::string::npos)
        << e.what();
  }
}

TEST_F(Idx, ImageAndLabelCountsThatDifferAreAnErrorNamingBothFiles) {
  const auto images = write_raw("i", images_file(3, 2, 2));
  const auto labels = write_raw("l", labels_file({1, 2}));
  try {
    curv::datasets::read_idx_dataset<float>(images, labels);
    FAIL();
  } catch (const IdxError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(images.string() + "' holds 3 images"), std::string::npos) << what;
    EXPECT_NE(what.find(labels.string() + "' holds 2 labels"), std::string::npos) << what;
    EXPECT_NE(what.find("byte offset 4"), std::string::npos) << what;
    EXPECT_NE(what.find("expected the same count"), std::string::npos) << what;
  }
}

TEST_F(Idx, LoadMnistFindsStandardNamesPlainOrGzip) {
  write_raw("train-images-idx3-ubyte.gz", images_file(6, 28, 28));
  write_raw("train-labels-idx1-ubyte", labels_file({0, 1, 2, 3, 4, 5}));
  write_raw("t10k-images-idx3-ubyte", images_file(2, 28, 28));
  write_raw("t10k-labels-idx1-ubyte.gz", labels_file({9, 8}));
  const auto d = curv::datasets::load_mnist<float>(dir_);
  EXPECT_EQ(d.train.size(), 6u);
  EXPECT_EQ(d.test.size(), 2u);
  EXPECT_EQ(d.test.targets()(0), 9.f);
  EXPECT_EQ(d.train.inputs().shape(), (curv::Shape{6, 1, 28, 28}));
  EXPECT_EQ(curv::datasets::find_idx_file(dir_, "train-labels-idx1-ubyte"), dir_ / "train-labels-idx1-ubyte");
  EXPECT_EQ(curv::datasets::find_idx_file(dir_, "train-images-idx3-ubyte"), dir_ / "train-images-idx3-ubyte.gz");
  fs::remove(dir_ / "t10k-images-idx3-ubyte");
  try {
    curv::datasets::load_mnist<float>(dir_);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("t10k-images-idx3-ubyte.gz'"), std::string::npos) << e.what();
  }
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A file of `size` bytes that costs no disk: `head` followed by a hole.
fs::path sparse_file(const fs::path& p, const Bytes& head, std::uint64_t size) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(head.data()),
                                           static_cast<std::streamsize>(head.size()));
  if (::truncate(p.c_str(), static_cast<off_t>(size)) != 0) ADD_FAILURE() << "truncate " << p;
  return p;
}

Bytes gzip_of(const Bytes& data) { return curv::fuzz::deflate_bytes(data.data(), data.size(), true); }

// The reader used to read a whole file before checking its 16-byte header: a
// sparse 2 GiB file of zeros cost 6 GiB and 29 s, a 64 GiB one a bare std::bad_alloc.
TEST_F(Idx, HeaderIsCheckedBeforeTheBodyOfASparseFile) {
  expect_idx_error(sparse_file(dir_ / "zeros", {}, std::uint64_t(2) << 30), 0,
                   "expected magic number 0x00000803 (IDX of unsigned bytes with 3 dimensions), found 0x00000000");
  Bytes header = images_file(60000, 28, 28);
  header.resize(16);
  const fs::path huge = sparse_file(dir_ / "huge", header, std::uint64_t(64) << 30);
  expect_idx_error(huge, 16 + 60000 * 784,
                   "expected end of file after dimensions (60000, 28, 28) (47040000 bytes of data), found " +
                       std::to_string((std::uint64_t(64) << 30) - 16 - 60000 * 784) + " more bytes");
  // A header claiming 2 GiB in a 16-byte file is refused before anything is allocated.
  Bytes claim = {0, 0, 8, 3};
  put32(claim, 32768), put32(claim, 256), put32(claim, 256);
  const fs::path short_file = write_raw("claims", claim);
  expect_idx_error(short_file, 16, "truncated data: dimensions (32768, 256, 256) need 2147483648 bytes");
  if (curv::fuzz::address_sanitizer) GTEST_SKIP() << "AddressSanitizer's reservations defeat RLIMIT_AS";
  for (const fs::path& p : {huge, short_file})
    EXPECT_EQ(curv::fuzz::run_with_memory_limit<IdxError>(64 << 20, [&] { curv::datasets::read_idx_images<float>(p); }),
              curv::fuzz::ChildOutcome::threw_expected)
        << p;
}

// Deflate cannot inflate more than 1032 times its size: a gzip file whose
// header claims more is refused without inflating it.
TEST_F(Idx, GzipHeaderClaimingMoreThanDeflateCanHoldIsRefused) {
  Bytes claim = {0, 0, 8, 3};
  put32(claim, 60000), put32(claim, 2048), put32(claim, 2048);
  const fs::path p = dir_ / "claims.gz";
  curv::fuzz::write_file(p, gzip_of(claim));
  const std::uint64_t size = fs::file_size(p);
  expect_idx_error(p, 4, "dimensions (60000, 2048, 2048) claim 251658240000 bytes of data, but a gzip file of " +
                             std::to_string(size) + " bytes inflates to at most " + std::to_string(1032 * size) +
                             " (deflate's maximum ratio, 1032:1)");
}

// A 2.3 MB gzip bomb cost 2.2 GiB and 13.6 s: everything was inflated before
// the header was read. Now the header is read first, and a valid header is
// followed by exactly the data it claims and nothing more.
TEST_F(Idx, GzipBombsAreRefusedAfterTheHeaderOrTheClaimedData) {
  const Bytes zeros(std::size_t(64) << 20, 0);  // 64 MiB of zeros, 64 KiB compressed
  const fs::path bomb = dir_ / "bomb.gz";
  curv::fuzz::write_file(bomb, gzip_of(zeros));
  expect_idx_error(bomb, 0, "found 0x00000000");
  Bytes valid = images_file(2, 2, 2);
  valid.resize(valid.size() + zeros.size(), 0);
  const fs::path after = dir_ / "after.gz";
  curv::fuzz::write_file(after, gzip_of(valid));
  expect_idx_error(after, 24, "expected the end of the data after dimensions (2, 2, 2) (8 bytes from offset 16), found "
                              "more bytes in the gzip stream");
  if (curv::fuzz::address_sanitizer) GTEST_SKIP() << "AddressSanitizer's reservations defeat RLIMIT_AS";
  for (const fs::path& p : {bomb, after})
    EXPECT_EQ(curv::fuzz::run_with_memory_limit<IdxError>(16 << 20, [&] { curv::datasets::read_idx_images<float>(p); }),
              curv::fuzz::ChildOutcome::threw_expected)
        << p;
}

// gzip -t refuses data after the stream; the reader accepted it.
TEST_F(Idx, DataAfterTheGzipStreamIsRefusedAtItsCompressedOffset) {
  const Bytes stream = gzip_of(images_file(3, 2, 2));
  for (const auto& [name, tail] : {std::pair<std::string, Bytes>{"garbage.gz", Bytes{'j', 'u', 'n', 'k'}},
                                   std::pair<std::string, Bytes>{"member.gz", gzip_of(Bytes{1, 2, 3})}}) {
    Bytes file = stream;
    file.insert(file.end(), tail.begin(), tail.end());
    const fs::path p = dir_ / name;
    curv::fuzz::write_file(p, file);
    try {
      curv::datasets::read_idx_images<float>(p);
      ADD_FAILURE() << name << " was accepted";
    } catch (const IdxError& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.offset(), stream.size()) << what;
      EXPECT_TRUE(contains(what, "byte offset " + std::to_string(stream.size()) +
                                     " of the compressed file: expected the end of the file after the gzip stream, "
                                     "found " + std::to_string(tail.size()) + " more bytes")) << what;
    }
  }
}

TEST_F(Idx, ADirectoryADeviceOrAnEmptyFileIsNamedAsSuch) {
  auto error = [](const fs::path& p) -> std::string {
    try {
      curv::datasets::read_idx_images<float>(p);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "accepted";
  };
  fs::create_directory(dir_ / "folder");
  EXPECT_TRUE(contains(error(dir_ / "folder"), "folder' is a directory, expected an IDX file")) << error(dir_ / "folder");
  EXPECT_TRUE(contains(error("/dev/null"), "'/dev/null' is not a regular file")) << error("/dev/null");
  EXPECT_TRUE(contains(error(write_raw("empty", {})), "the file is empty")) << error(dir_ / "empty");
  // In a dataset folder, where the message used to be "found neither ... nor ....gz".
  fs::create_directory(dir_ / "train-images-idx3-ubyte");
  fs::create_symlink("/dev/null", dir_ / "train-labels-idx1-ubyte");
  for (const auto& [name, says] : {std::pair<std::string, std::string>{"train-images-idx3-ubyte", "is a directory"},
                                   std::pair<std::string, std::string>{"train-labels-idx1-ubyte", "is not a regular file"}}) {
    try {
      curv::datasets::find_idx_file(dir_, name);
      ADD_FAILURE() << name;
    } catch (const std::runtime_error& e) {
      EXPECT_TRUE(contains(e.what(), (dir_ / name).string() + "' " + says)) << e.what();
    }
  }
}

// An empty training file was reported as "--train-size 0", an option never given.
TEST_F(Idx, LoadMnistRefusesATrainingFileOfNoImagesNamingIt) {
  write_raw("train-images-idx3-ubyte", images_file(0, 28, 28));
  write_raw("train-labels-idx1-ubyte", labels_file({}));
  write_raw("t10k-images-idx3-ubyte", images_file(1, 28, 28));
  write_raw("t10k-labels-idx1-ubyte", labels_file({1}));
  try {
    curv::datasets::load_mnist<float>(dir_);
    FAIL();
  } catch (const IdxError& e) {
    EXPECT_TRUE(contains(e.what(), (dir_ / "train-images-idx3-ubyte").string() +
                                       "' holds 0 images (count at byte offset 4); expected at least one")) << e.what();
  }
}

// Image and label counts are compared from the headers, before either body is read.
TEST_F(Idx, CountsAreComparedBeforeTheBodiesAreRead) {
  Bytes header = images_file(60000, 28, 28);
  header.resize(16);
  const fs::path images = sparse_file(dir_ / "images", header, 16 + 60000 * 784);
  const fs::path labels = write_raw("labels", labels_file({1, 2}));
  if (curv::fuzz::address_sanitizer) GTEST_SKIP() << "AddressSanitizer's reservations defeat RLIMIT_AS";
  // 47 MB of images would be read as 188 MB of floats; 16 MiB is far too little for that.
  EXPECT_EQ(curv::fuzz::run_with_memory_limit<IdxError>(
                16 << 20, [&] { curv::datasets::read_idx_dataset<float>(images, labels); }),
            curv::fuzz::ChildOutcome::threw_expected);
}

// ---- Shards: read_idx_dims and read_idx_rows -------------------------------

using Rows = std::vector<std::size_t>;

// What read_idx_rows must equal: the whole file read, then the rows picked.
curv::datasets::IdxArray pick(const curv::datasets::IdxArray& all, const Rows& rows) {
  const std::size_t record = all.dims[0] ? all.data.size() / all.dims[0] : 0;
  curv::datasets::IdxArray a{all.dims, {}};
  a.dims[0] = rows.size();
  for (std::size_t r : rows)
    a.data.insert(a.data.end(), all.data.begin() + r * record, all.data.begin() + (r + 1) * record);
  return a;
}

Rows every(std::size_t count, std::size_t stride, std::size_t first = 0) {
  Rows rows;
  for (std::size_t r = first; r < count; r += stride) rows.push_back(r);
  return rows;
}

// 2,000 images of 784 bytes: 1.5 MiB, more than the plain reader's 64 KiB
// window (so rows far apart are sought) and the 1 MiB chunk a gzip stream is
// skipped through.
TEST_F(Idx, ReadRowsEqualsReadingEverythingAndPickingTheRowsPlainAndGzip) {
  const Bytes raw = images_file(2000, 28, 28);
  const Rows row_sets[] = {{}, {0}, {1999}, {0, 1999}, {5, 6, 7, 8, 1000, 1001, 1500}, every(2000, 7, 3),
                           every(2000, 1)};
  for (const std::string name : {"images", "images.gz"}) {
    const fs::path p = write_raw(name, raw);
    const auto all = curv::datasets::read_idx(p, 3);
    for (const Rows& rows : row_sets) {
      const auto a = curv::datasets::read_idx_rows(p, 3, rows);
      const auto expected = pick(all, rows);
      EXPECT_EQ(a.dims, expected.dims) << name << ", " << rows.size() << " rows";
      EXPECT_TRUE(a.data == expected.data) << name << ", " << rows.size() << " rows";
    }
    EXPECT_EQ(curv::datasets::read_idx_rows(p, 3, every(2000, 1)).data, all.data) << name;
  }
  const Bytes labels = labels_file({7, 1, 4, 0, 9});
  for (const std::string name : {"labels", "labels.gz"}) {
    const auto a = curv::datasets::read_idx_rows(write_raw(name, labels), 1, Rows{1, 3, 4});
    EXPECT_EQ(a.dims, (std::vector<std::size_t>{3}));
    EXPECT_EQ(a.data, (Bytes{1, 0, 9})) << name;
  }
}

TEST_F(Idx, TypedShardsAreTheRowsOfTheWholeAndTheirProvenanceNamesTheRecords) {
  const Bytes raw = images_file(50, 4, 3);
  Bytes labels;
  for (std::uint8_t i = 0; i < 50; ++i) labels.push_back(i % 10);
  const Rows rows{2, 3, 17, 49};
  for (const std::string gz : {"", ".gz"}) {
    const fs::path images = write_raw("train-images-idx3-ubyte" + gz, raw);
    const fs::path targets = write_raw("train-labels-idx1-ubyte" + gz, labels_file(labels));
    const auto whole = curv::datasets::read_idx_dataset<double>(images, targets);
    const auto shard = curv::datasets::read_idx_dataset<double>(images, targets, rows);
    const auto picked = whole.get_batch(rows);
    ASSERT_EQ(shard.size(), rows.size());
    EXPECT_EQ(shard.inputs(), picked.inputs);
    EXPECT_EQ(shard.targets(), picked.targets);
    EXPECT_EQ(curv::datasets::read_idx_images<double>(images, rows), picked.inputs);
    EXPECT_EQ(curv::datasets::read_idx_labels<double>(targets, rows), picked.targets);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto origin = shard.origin(i);
      EXPECT_EQ(origin.record, rows[i]);
      EXPECT_EQ(origin.inputs_record(), "train-images-idx3-ubyte" + gz + " record " + std::to_string(rows[i]));
      EXPECT_EQ(origin.targets_record(), "train-labels-idx1-ubyte" + gz + " record " + std::to_string(rows[i]));
    }
    // A subset of the shard still names the files' records.
    const Rows second{1};
    EXPECT_EQ(shard.provenance().subset(second).origin(0).record, 3u);
    const auto empty = curv::datasets::read_idx_dataset<float>(images, targets, Rows{});
    EXPECT_EQ(empty.size(), 0u);
    EXPECT_EQ(empty.inputs().shape(), (curv::Shape{0, 1, 4, 3}));
  }
}

// The message of the std::invalid_argument that f throws, or what went otherwise.
template <class F>
std::string invalid_argument_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("another exception: ") + e.what();
  }
  return "accepted";
}

TEST_F(Idx, RowsThatAreNotStrictlyIncreasingOrBeyondTheCountAreRefusedNamingThem) {
  const fs::path images = write_raw("images", images_file(10, 2, 2));
  const fs::path labels = write_raw("labels", labels_file({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  using namespace curv::datasets;
  const std::string unsorted = invalid_argument_of([&] { read_idx_rows(images, 3, Rows{0, 5, 3}); });
  EXPECT_TRUE(contains(unsorted, "curv::datasets::read_idx_rows: rows[2] = 3 after rows[1] = 5, expected strictly "
                                 "increasing rows (sorted, no duplicates)")) << unsorted;
  const std::string duplicate = invalid_argument_of([&] { read_idx_images<float>(images, Rows{4, 4}); });
  EXPECT_TRUE(contains(duplicate, "curv::datasets::read_idx_images: rows[1] = 4 after rows[0] = 4")) << duplicate;
  // Checked before the file is opened: a missing file is not the complaint.
  const std::string before = invalid_argument_of([&] { read_idx_labels<float>(dir_ / "missing", Rows{1, 0}); });
  EXPECT_TRUE(contains(before, "read_idx_labels: rows[1] = 0 after rows[0] = 1")) << before;
  const std::string beyond = invalid_argument_of([&] { read_idx_rows(images, 3, Rows{0, 9, 10, 12}); });
  EXPECT_TRUE(contains(beyond, "curv::datasets::read_idx_rows: rows[2] = 10, expected a row below 10, the record "
                               "count of '" + images.string() + "'")) << beyond;
  const std::string dataset = invalid_argument_of([&] { read_idx_dataset<double>(images, labels, Rows{11}); });
  EXPECT_TRUE(contains(dataset, "curv::datasets::read_idx_dataset: rows[0] = 11, expected a row below 10")) << dataset;
  const std::string labels_beyond = invalid_argument_of([&] { read_idx_labels<double>(labels, Rows{3, 100}); });
  EXPECT_TRUE(contains(labels_beyond, "rows[1] = 100, expected a row below 10")) << labels_beyond;
  const fs::path no_images = write_raw("none", images_file(0, 2, 2));
  const std::string none = invalid_argument_of([&] { read_idx_rows(no_images, 3, Rows{0}); });
  EXPECT_TRUE(contains(none, "rows[0] = 0, expected a row below 0")) << none;
}

// The IdxError (what() and offset) that f throws.
template <class F>
std::pair<std::string, std::uint64_t> idx_error_of(F&& f) {
  try {
    f();
  } catch (const IdxError& e) {
    return {e.what(), e.offset()};
  }
  return {"accepted", 0};
}

// A shard is read only where its rows are, but the whole file is still
// checked: a plain file's size against its header, a gzip stream to its end.
TEST_F(Idx, ATruncatedOrOverlongFileIsRefusedLikeReadIdxWhenOnlySomeRowsAreAsked) {
  Bytes truncated = images_file(2000, 28, 28);
  truncated.resize(truncated.size() - 100);
  Bytes overlong = images_file(2000, 28, 28);
  overlong.push_back(1);
  const Bytes stream = gzip_of(images_file(2000, 28, 28));
  Bytes garbage = stream;
  garbage.insert(garbage.end(), {'j', 'u', 'n', 'k'});
  Bytes cut(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(stream.size() / 2));
  std::vector<fs::path> files = {write_raw("truncated", truncated), write_raw("truncated.gz", truncated),
                                 write_raw("overlong", overlong), write_raw("overlong.gz", overlong)};
  for (const auto& [name, bytes] : {std::pair<std::string, Bytes>{"garbage.gz", garbage}, {"cut.gz", cut}}) {
    curv::fuzz::write_file(dir_ / name, bytes);
    files.push_back(dir_ / name);
  }
  for (const fs::path& p : files) {
    const auto whole = idx_error_of([&] { curv::datasets::read_idx(p, 3); });
    ASSERT_NE(whole.first, "accepted") << p;
    for (const Rows& rows : {Rows{}, Rows{0}, Rows{3, 4}}) {
      EXPECT_EQ(idx_error_of([&] { curv::datasets::read_idx_rows(p, 3, rows); }), whole) << p;
      EXPECT_EQ(idx_error_of([&] { curv::datasets::read_idx_images<float>(p, rows); }), whole) << p;
    }
  }
}

// The header alone: a plain file's size is part of it (one stat), a gzip
// file's body is not (only inflating it would tell).
TEST_F(Idx, ReadIdxDimsChecksTheHeaderAndNotTheBody) {
  const Bytes raw = images_file(7, 3, 2);
  EXPECT_EQ(curv::datasets::read_idx_dims(write_raw("a", raw), 3), (std::vector<std::size_t>{7, 3, 2}));
  EXPECT_EQ(curv::datasets::read_idx_dims(write_raw("a.gz", raw), 3), (std::vector<std::size_t>{7, 3, 2}));
  EXPECT_EQ(curv::datasets::read_idx_dims(write_raw("l", labels_file({1, 2})), 1), (std::vector<std::size_t>{2}));
  Bytes truncated = raw;
  truncated.pop_back();
  const fs::path plain = write_raw("truncated", truncated);
  const auto error = idx_error_of([&] { curv::datasets::read_idx_dims(plain, 3); });
  EXPECT_EQ(error, idx_error_of([&] { curv::datasets::read_idx(plain, 3); }));
  EXPECT_TRUE(contains(error.first, "truncated data: dimensions (7, 3, 2) need 42 bytes")) << error.first;
  EXPECT_TRUE(contains(idx_error_of([&] { curv::datasets::read_idx_dims(write_raw("w", labels_file({1})), 3); }).first,
                       "expected magic number 0x00000803"));
  EXPECT_THROW(curv::datasets::read_idx_dims(write_raw("z", raw), 0), std::invalid_argument);
  const fs::path gz = write_raw("truncated.gz", truncated);
  EXPECT_EQ(curv::datasets::read_idx_dims(gz, 3), (std::vector<std::size_t>{7, 3, 2}));
  EXPECT_TRUE(contains(idx_error_of([&] { curv::datasets::read_idx_rows(gz, 3, Rows{}); }).first,
                       "truncated data: dimensions (7, 3, 2) need 42 bytes"));
}

// 60,000 MNIST-sized images in a sparse file: 47 MB that the dimensions,
// or two rows of it, must not bring into memory.
TEST_F(Idx, ReadIdxDimsAndAShardOfFewRowsDoNotHoldTheBody) {
  Bytes header = images_file(60000, 28, 28);
  header.resize(16);
  const fs::path p = sparse_file(dir_ / "images", header, 16 + 60000 * 784);
  EXPECT_EQ(curv::datasets::read_idx_dims(p, 3)[0], 60000u);
  const Rows rows{0, 31415, 59999};
  EXPECT_EQ(curv::datasets::read_idx_images<float>(p, rows).shape(), (curv::Shape{3, 1, 28, 28}));
  if (curv::fuzz::address_sanitizer) GTEST_SKIP() << "AddressSanitizer's reservations defeat RLIMIT_AS";
  EXPECT_EQ(curv::fuzz::run_with_memory_limit<IdxError>(8 << 20, [&] { curv::datasets::read_idx_dims(p, 3); }),
            curv::fuzz::ChildOutcome::returned);
  EXPECT_EQ(curv::fuzz::run_with_memory_limit<IdxError>(8 << 20, [&] { curv::datasets::read_idx_rows(p, 3, rows); }),
            curv::fuzz::ChildOutcome::returned);
  EXPECT_EQ(curv::fuzz::run_with_memory_limit<IdxError>(
                8 << 20, [&] { curv::datasets::read_idx_images<double>(p, rows); }),
            curv::fuzz::ChildOutcome::returned);
  // The whole file does not fit there: the limit is what the test says it is.
  EXPECT_EQ(curv::fuzz::run_with_memory_limit<IdxError>(8 << 20, [&] { curv::datasets::read_idx(p, 3); }),
            curv::fuzz::ChildOutcome::threw_bad_alloc);
}

// read_idx_rows on a few row sets agrees with read_idx: the picked rows when
// read_idx reads the file, a std::runtime_error when it refuses it.
void expect_shards_agree(const fs::path& file, std::size_t dimensions, const fs::path& input) {
  std::optional<curv::datasets::IdxArray> all;
  std::size_t count = 0;
  try {
    all = curv::datasets::read_idx(file, dimensions);
  } catch (const std::runtime_error&) {
  }
  try {
    count = curv::datasets::read_idx_dims(file, dimensions)[0];
  } catch (const std::runtime_error&) {
    EXPECT_FALSE(all) << input << ": read_idx_dims refused a file read_idx reads";
    return;
  }
  for (const Rows& rows : {Rows{}, every(count, 1), every(count, 3, 1), count ? Rows{count - 1} : Rows{}}) {
    try {
      const auto a = curv::datasets::read_idx_rows(file, dimensions, rows);
      EXPECT_TRUE(all && a.dims == pick(*all, rows).dims && a.data == pick(*all, rows).data) << input;
    } catch (const std::runtime_error&) {
      EXPECT_FALSE(all) << input << ": read_idx_rows refused a file read_idx reads";
    }
  }
}

// Every input kept in tests/fuzz is either read or refused with
// std::runtime_error (IdxError for a malformed file): no other exception, and
// under the sanitizer build no memory error.
TEST_F(Idx, FuzzCorporaAreReadOrRefusedCleanly) {
  std::size_t inputs = 0;
  for (const char* kind : {"corpus", "regression"}) {
    for (const auto& e : fs::directory_iterator(fs::path(CURV_FUZZ_DIR) / kind / "idx")) {
      std::ifstream in(e.path(), std::ios::binary);
      const Bytes input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const curv::fuzz::IdxInput file = curv::fuzz::idx_input(input.data(), input.size());
      try {
        if (file.dimensions == 3)
          curv::datasets::read_idx_images<float>(file.file);
        else
          curv::datasets::read_idx_labels<double>(file.file);
      } catch (const std::runtime_error&) {
      }
      expect_shards_agree(file.file, file.dimensions, e.path());
      fs::remove(file.file);
      ++inputs;
    }
  }
  EXPECT_GE(inputs, 12u);
}

}  // namespace
