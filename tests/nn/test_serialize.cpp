// Saving and loading parameters: bit-exact round trips, the file layout NumPy
// reads, atomic writes, errors that name the parameter that differs, and the
// reader's defence against hostile files (bounded header, strict parsing,
// sizes capped by the file, no allocation from an unchecked size).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "../fuzz/fuzz_input.hpp"
#include "harness.hpp"

namespace {

using namespace curv;
using namespace curv::nn;
using namespace curv::nn::testing;
namespace fs = std::filesystem;

// The message of what `f` throws ("" when it returns).
template <class F>
std::string thrown(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

class Serialize : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("curv_nn_serialize_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const fuzz::Bytes& bytes) const {
    fuzz::write_file(dir_ / name, bytes);
    return dir_ / name;
  }
  // The message of load_npz's or load_npy's refusal of `bytes` (chosen by the name's extension).
  std::string refusal(const std::string& name, const fuzz::Bytes& bytes) const {
    const fs::path p = write(name, bytes);
    try {
      if (p.extension() == ".npy")
        load_npy<double>(p);
      else
        load_npz<double>(p);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    ADD_FAILURE() << name << " was accepted";
    return "";
  }
  fs::path dir_;
};

// An npy v1.0 file with `header` exactly as given.
fuzz::Bytes npy_with_header(const std::string& header, std::size_t data_bytes = 0) {
  fuzz::Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  fuzz::put16(b, static_cast<std::uint32_t>(header.size()));
  b.insert(b.end(), header.begin(), header.end());
  b.resize(b.size() + data_bytes, 0);
  return b;
}

fuzz::Bytes npy_with_shape(const std::string& shape, std::size_t data_bytes = 0) {
  return npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }\n", data_bytes);
}

fuzz::Bytes stored(const fuzz::Bytes& npy) { return fuzz::zip_one("a.npy", npy.data(), npy.size(), false); }

void patch32(fuzz::Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<unsigned char>(v >> (8 * i));
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

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

TEST_F(Serialize, SaveNpzWritesArraysOfEveryDtypeAndRefusesBadOnesBeforeWriting) {
  const Tensor<float> x = {{1.5f, -2.0f, 3.25f}, {0.0f, 4.0f, 5.0f}};
  const Tensor<double> y = {0.1, 0.2};
  const std::int64_t labels[] = {7, -1, 3};
  save_npz(dir_ / "a.npz", {{"x", "<f4", {2, 3}, x.data(), x.size() * 4},
                            {"y", "<f8", {2}, y.data(), y.size() * 8},
                            {"labels", "<i8", {3}, labels, sizeof labels}});
  // load_npz reads floats only: the float arrays come back exactly (the
  // int64 entry's bytes are checked by tests/examples/test_train.cpp's reader).
  EXPECT_NE(thrown([&] { load_npz<double>(dir_ / "a.npz"); }).find("'<i8' is not supported"), std::string::npos);
  save_npz(dir_ / "b.npz", {{"x", "<f4", {2, 3}, x.data(), x.size() * 4}, {"y", "<f8", {2}, y.data(), 16}});
  const auto arrays = load_npz<double>(dir_ / "b.npz");
  EXPECT_EQ(arrays.at("x"), Tensor<double>(xt::cast<double>(x)));
  EXPECT_EQ(arrays.at("y"), y);
  EXPECT_NE(thrown([&] { save_npz(dir_ / "c.npz", {{"x", "<f4", {2, 2}, x.data(), x.size() * 4}}); })
                .find("array 'x' of dtype <f4 and shape (2, 2) has 24 bytes, its shape needs 16"),
            std::string::npos);
  EXPECT_NE(thrown([&] { save_npz(dir_ / "c.npz", {{"x", "<i4", {3}, labels, 12}}); }).find("dtype '<i4'"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "c.npz"));
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

TEST_F(Serialize, DeflatedEntriesAsNumpySavezCompressedWritesThemLoad) {
  const Sequential<double> net = models::mlp<double>({3, 2});
  save_parameters(dir_ / "p.npy", net, net.initialize(5));
  std::ifstream in(dir_ / "p.npy", std::ios::binary);
  const fuzz::Bytes npy((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const fs::path p = write("d.npz", fuzz::zip_one("w.npy", npy.data(), npy.size(), true));
  EXPECT_EQ(load_npz<double>(p).at("w"), load_npy<double>(dir_ / "p.npy"));
}

// The hostile tester's 193-byte .npz: an npy header ending right after
// "'descr':" made the parser index a string at npos (heap-buffer-overflow).
TEST_F(Serialize, HeaderEndingAfterAKeyIsRefusedInsideItsBounds) {
  const fuzz::Bytes npy = npy_with_header("{'descr':" + std::string(30, ' ') + "\n");
  const std::string msg = refusal("oob.npz", stored(npy));
  EXPECT_TRUE(contains(msg, (dir_ / "oob.npz").string() + ":a.npy")) << msg;  // the file and the entry
  EXPECT_TRUE(contains(msg, "expected a dtype string")) << msg;
  EXPECT_TRUE(contains(refusal("oob.npy", npy), "npy header at character 39: expected a dtype string")) << refusal("oob.npy", npy);
  EXPECT_TRUE(contains(refusal("open.npy", npy_with_header("{'descr': '<f4', 'shape': (3, \n")), "expected a dimension"));
}

TEST_F(Serialize, HeaderDictIsParsedStrictly) {
  const std::string f4 = "{'descr': '<f4', 'fortran_order': False, ";
  EXPECT_TRUE(contains(refusal("a.npy", npy_with_header(f4 + "'shape': (1,), 'x': 1, }\n", 4)),
                       "expected one of the keys 'descr', 'fortran_order', 'shape', found ''x'"));
  EXPECT_TRUE(contains(refusal("b.npy", npy_with_header(f4 + "'shape': (1,), 'shape': (1,), }\n", 4)),
                       "but 'shape' appears again"));
  EXPECT_TRUE(contains(refusal("c.npy", npy_with_header("{'descr': '<f4', 'shape': (1,), }\n", 4)),
                       "has no 'fortran_order'"));
  EXPECT_TRUE(contains(refusal("d.npy", npy_with_shape("(4)", 16)), "a shape of one dimension is written (n,)"));
  EXPECT_TRUE(contains(refusal("e.npy", npy_with_header(f4 + "'shape': (1,), }", 4)), "a final '\\n'"));
  EXPECT_TRUE(contains(refusal("f.npy", npy_with_header(f4 + "'shape': (1,), } x\n", 4)), "found 'x"));
  EXPECT_TRUE(contains(refusal("g.npy", npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': (1,)}\n", 4)),
                       "dtype '<i4' is not supported"));
  EXPECT_TRUE(contains(refusal("h.npy", npy_with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (1,)}\n", 4)),
                       "Fortran-ordered"));
  // What NumPy itself writes still loads: padding, trailing comma, a 0-d and an empty array.
  EXPECT_EQ(load_npy<double>(write("ok.npy", npy_with_shape("(2, 1,)", 8))).shape(), (Shape{2, 1}));
  EXPECT_EQ(load_npy<double>(write("scalar.npy", npy_with_header(f4 + "'shape': (), }      \n", 4))).size(), 1u);
  EXPECT_EQ(load_npy<double>(write("empty.npy", npy_with_shape("(0, 5)"))).shape(), (Shape{0, 5}));
}

// NumPy's max_header_size: a header length of 2^30 is refused before the header is read.
TEST_F(Serialize, HeaderLongerThanNumpysLimitIsRefused) {
  fuzz::Bytes v2 = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0};
  fuzz::put32(v2, 1u << 30);
  v2.push_back('{');
  const std::string msg = refusal("long.npy", v2);
  EXPECT_TRUE(contains(msg, "npy header of 1073741824 bytes (at byte 8): expected at most 10000")) << msg;
}

// Shapes of 2^62 and 2^32 × 2^29 elements overflowed into bad_array_new_length
// or bad_alloc; a negative dimension was read as positive.
TEST_F(Serialize, NegativeAndOverflowingShapesAreRefused) {
  std::string msg = refusal("neg.npy", npy_with_shape("(-1,)", 4));
  EXPECT_TRUE(contains(msg, "expected a non-negative dimension, found '-1,)")) << msg;
  msg = refusal("huge.npy", npy_with_shape("(4611686018427387904,)"));
  EXPECT_TRUE(contains(msg, "shape (4611686018427387904,) of 4-byte elements holds more than 2^64 bytes")) << msg;
  msg = refusal("digits.npy", npy_with_shape("(99999999999999999999,)"));
  EXPECT_TRUE(contains(msg, "expected a dimension below 2^62, found '9999999999999999'")) << msg;
  msg = refusal("product.npy", npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 536870912)}\n"));
  EXPECT_TRUE(contains(msg, "shape (4294967296, 536870912) of 8-byte elements holds more than 2^64 bytes")) << msg;
  msg = refusal("big.npz", stored(npy_with_shape("(1073741824, 2)")));
  EXPECT_TRUE(contains(msg, "a.npy: data holds 0 bytes after byte 79, expected 8589934592 for shape (1073741824, 2) of <f4")) << msg;
}

// A 140-byte .npz whose entry claims 4 GiB made the loader allocate 4 GiB first.
TEST_F(Serialize, EntryClaimingMoreThanDeflateCanHoldIsRefusedUnread) {
  const fuzz::Bytes npy = npy_with_shape("(4,)", 16);
  fuzz::Bytes zip = fuzz::zip_one("a.npy", npy.data(), npy.size(), true);
  const std::size_t compressed = zip[18] | (zip[19] << 8);
  const std::size_t cd = 30 + 5 + compressed;
  patch32(zip, 22, 0xfffffffeu);  // the local header's and the central directory's sizes
  patch32(zip, cd + 24, 0xfffffffeu);
  const fs::path p = write("claims.npz", zip);
  const std::string msg = refusal("claims.npz", zip);
  EXPECT_TRUE(contains(msg, (dir_ / "claims.npz").string() + ":a.npy: claims to inflate")) << msg;
  EXPECT_TRUE(contains(msg, "into 4294967294, a ratio above deflate's maximum of 1032:1")) << msg;
  if (fuzz::address_sanitizer) GTEST_SKIP() << "AddressSanitizer's reservations defeat RLIMIT_AS";
  // In 64 MiB more address space than the test has, it is still refused (not bad_alloc).
  EXPECT_EQ(fuzz::run_with_memory_limit<std::invalid_argument>(64 << 20, [&] { load_npz<double>(p); }),
            fuzz::ChildOutcome::threw_expected);
}

TEST_F(Serialize, DeflatedEntryOfAnotherSizeThanRecordedIsRefused) {
  const fuzz::Bytes npy = npy_with_shape("(4,)", 16);
  fuzz::Bytes zip = fuzz::zip_one("a.npy", npy.data(), npy.size(), true);
  const std::size_t cd = 30 + 5 + (zip[18] | (zip[19] << 8));
  patch32(zip, cd + 24, static_cast<std::uint32_t>(npy.size() - 1));
  const std::string n = std::to_string(npy.size());
  std::string msg = refusal("more.npz", zip);
  EXPECT_TRUE(contains(msg, "inflates to more than the " + std::to_string(npy.size() - 1) +
                                " bytes its central directory records")) << msg;
  patch32(zip, cd + 24, static_cast<std::uint32_t>(npy.size() + 1));
  msg = refusal("less.npz", zip);
  EXPECT_TRUE(contains(msg, "inflates to " + n + " bytes, its central directory records " +
                                std::to_string(npy.size() + 1))) << msg;
  zip[40] ^= 0xff;  // inside the deflate stream
  EXPECT_FALSE(refusal("corrupt.npz", zip).empty());
}

TEST_F(Serialize, ZipOffsetsAndSizesAreCheckedAgainstTheFile) {
  const fuzz::Bytes npy = npy_with_shape("(4,)", 16);
  const fuzz::Bytes zip = stored(npy);
  const std::size_t cd = 30 + 5 + npy.size(), eocd = zip.size() - 22;
  fuzz::Bytes b = zip;
  patch32(b, eocd + 16, 1u << 30);  // the central directory's offset
  EXPECT_TRUE(contains(refusal("cd.npz", b), "places the central directory at bytes 1073741824")) << refusal("cd.npz", b);
  b = zip;
  patch32(b, cd + 42, static_cast<std::uint32_t>(cd + 4));  // a local header inside the central directory
  EXPECT_TRUE(contains(refusal("local.npz", b), "expected a local header (PK\\x03\\x04) at byte")) << refusal("local.npz", b);
  b = zip;
  patch32(b, cd + 20, 1000), patch32(b, cd + 24, 1000);  // the entry's size
  EXPECT_TRUE(contains(refusal("size.npz", b), "runs past the central directory")) << refusal("size.npz", b);
  b = zip;
  b[cd + 24] ^= 1;  // stored, with two sizes
  EXPECT_TRUE(contains(refusal("sizes.npz", b), "is stored uncompressed in " + std::to_string(npy.size()) +
                                                   " bytes, but its size is recorded as")) << refusal("sizes.npz", b);
  b = zip;
  b[cd + 10] = 12;  // bzip2
  EXPECT_TRUE(contains(refusal("bzip.npz", b), "compression method 12")) << refusal("bzip.npz", b);
  b = zip;
  b[cd + 46] = 'b';  // the central directory's name differs from the local header's
  EXPECT_TRUE(contains(refusal("name.npz", b), "names 'a.npy', expected the central directory's name")) << refusal("name.npz", b);
  b = zip;
  b.resize(b.size() - 3);
  EXPECT_TRUE(contains(refusal("cut.npz", b), "no ZIP end-of-central-directory record")) << refusal("cut.npz", b);
}

TEST_F(Serialize, TwoEntriesOfTheSameNameAreRefused) {
  const Sequential<double> net = models::mlp<double>({3, 2, 2});
  save_parameters(dir_ / "p.npz", net, net.initialize(1));
  std::ifstream in(dir_ / "p.npz", std::ios::binary);
  std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::size_t at = b.find("fc2.bias"); at != std::string::npos; at = b.find("fc2.bias", at)) b[at + 2] = '1';
  const std::string msg = refusal("dup.npz", fuzz::Bytes(b.begin(), b.end()));
  EXPECT_TRUE(contains(msg, "dup.npz:fc1.bias.npy: appears twice in the central directory")) << msg;
}

TEST_F(Serialize, ADirectoryOrADeviceIsRefusedByName) {
  fs::create_directory(dir_ / "d.npz");
  EXPECT_TRUE(contains(error_of([&] { load_npz<double>(dir_ / "d.npz"); }), "is a directory"));
  EXPECT_TRUE(contains(error_of([&] { load_npy<double>("/dev/null"); }), "/dev/null: is not a regular file"));
  EXPECT_TRUE(contains(refusal("empty.npz", {}), "a file of 0 bytes is too short to be a ZIP"));
}

// Every input kept in tests/fuzz (seeds and the inputs that broke the reader)
// is either read or refused with std::invalid_argument: no other exception,
// and under the sanitizer build no memory error.
TEST_F(Serialize, FuzzCorporaAreReadOrRefusedCleanly) {
  std::size_t inputs = 0;
  for (const char* kind : {"corpus", "regression"}) {
    for (const auto& e : fs::directory_iterator(fs::path(CURV_FUZZ_DIR) / kind / "npz")) {
      std::ifstream in(e.path(), std::ios::binary);
      const fuzz::Bytes input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const fuzz::NpzInput file = fuzz::npz_input(input.data(), input.size());
      try {
        if (file.npy)
          load_npy<float>(file.file);
        else
          load_npz<double>(file.file);
      } catch (const std::invalid_argument&) {
      }
      fs::remove(file.file);
      ++inputs;
    }
  }
  EXPECT_GE(inputs, 15u);
}

}  // namespace
