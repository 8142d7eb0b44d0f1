// What the fuzz targets and the readers' tests share: a fuzzer input turned
// into the file a reader is given, and a child process of bounded memory. The first byte of an input chooses how the rest becomes a file
// (as is, or wrapped in a valid container so that mutations reach the parser
// behind a checksum); the targets' seed and regression corpora
// (tests/fuzz/corpus, tests/fuzz/regression) follow the same convention.
#pragma once

#include <zlib.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <fstream>
#include <functional>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace curv::fuzz {

using Bytes = std::vector<unsigned char>;

// A file of this process under the temporary folder, rewritten for each input.
inline std::filesystem::path scratch(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("curv-fuzz-" + std::to_string(::getpid()) + "-" + name);
}

inline void write_file(const std::filesystem::path& path, const Bytes& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

// `data` compressed with deflate: raw (for ZIP entries) or as a gzip member.
inline Bytes deflate_bytes(const unsigned char* data, std::size_t size, bool gzip) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, gzip ? 16 + MAX_WBITS : -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  Bytes out(deflateBound(&z, static_cast<uLong>(size)));
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline void put16(Bytes& b, std::uint32_t v) {
  b.push_back(static_cast<unsigned char>(v & 0xff));
  b.push_back(static_cast<unsigned char>((v >> 8) & 0xff));
}
inline void put32(Bytes& b, std::uint32_t v) {
  put16(b, v & 0xffff);
  put16(b, v >> 16);
}

// A valid ZIP archive of one entry `name` holding `data`, stored or deflated.
inline Bytes zip_one(const std::string& name, const unsigned char* data, std::size_t size, bool deflated) {
  const Bytes body = deflated ? deflate_bytes(data, size, false) : Bytes(data, data + size);
  const auto crc = static_cast<std::uint32_t>(crc32(0L, data, static_cast<uInt>(size)));
  const std::uint32_t method = deflated ? 8 : 0;
  Bytes out;
  put32(out, 0x04034b50);
  put16(out, 20), put16(out, 0), put16(out, method), put16(out, 0), put16(out, 0x21);
  put32(out, crc), put32(out, static_cast<std::uint32_t>(body.size())), put32(out, static_cast<std::uint32_t>(size));
  put16(out, static_cast<std::uint32_t>(name.size())), put16(out, 0);
  out.insert(out.end(), name.begin(), name.end());
  out.insert(out.end(), body.begin(), body.end());
  const auto cd_offset = static_cast<std::uint32_t>(out.size());
  put32(out, 0x02014b50);
  put16(out, 20), put16(out, 20), put16(out, 0), put16(out, method), put16(out, 0), put16(out, 0x21);
  put32(out, crc), put32(out, static_cast<std::uint32_t>(body.size())), put32(out, static_cast<std::uint32_t>(size));
  put16(out, static_cast<std::uint32_t>(name.size()));
  put16(out, 0), put16(out, 0), put16(out, 0), put16(out, 0);
  put32(out, 0), put32(out, 0);
  out.insert(out.end(), name.begin(), name.end());
  const auto cd_size = static_cast<std::uint32_t>(out.size() - cd_offset);
  put32(out, 0x06054b50);
  put16(out, 0), put16(out, 0), put16(out, 1), put16(out, 1);
  put32(out, cd_size), put32(out, cd_offset);
  put16(out, 0);
  return out;
}

// npz/npy target. Mode (first byte % 4): 0 the rest is an .npz file; 1 an
// .npy file; 2 an npy array stored in a valid .npz; 3 the same, deflated.
struct NpzInput {
  std::filesystem::path file;
  bool npy = false;
};
inline NpzInput npz_input(const unsigned char* data, std::size_t size) {
  const unsigned mode = size ? data[0] % 4 : 0;
  const unsigned char* rest = size ? data + 1 : data;
  const std::size_t n = size ? size - 1 : 0;
  NpzInput in;
  in.npy = mode == 1;
  in.file = scratch(in.npy ? "input.npy" : "input.npz");
  write_file(in.file, mode <= 1 ? Bytes(rest, rest + n) : zip_one("a.npy", rest, n, mode == 3));
  return in;
}

// IDX target. Mode (first byte): bit 2 chooses images (3 dimensions) or
// labels (1); bits 0-1: 0 the rest is the file; 1 the rest gzip-compressed;
// 2 the first half compressed and the second half appended raw (trailing
// data); 3 the rest compressed as two concatenated gzip members.
struct IdxInput {
  std::filesystem::path file;
  std::size_t dimensions = 3;
};
inline IdxInput idx_input(const unsigned char* data, std::size_t size) {
  const unsigned mode = size ? data[0] : 0;
  const unsigned char* rest = size ? data + 1 : data;
  const std::size_t n = size ? size - 1 : 0;
  IdxInput in;
  in.dimensions = (mode & 4) ? 1 : 3;
  in.file = scratch("input-idx");
  Bytes file;
  switch (mode & 3) {
    case 0: file.assign(rest, rest + n); break;
    case 1: file = deflate_bytes(rest, n, true); break;
    case 2: {
      file = deflate_bytes(rest, n / 2, true);
      file.insert(file.end(), rest + n / 2, rest + n);
      break;
    }
    default: {
      file = deflate_bytes(rest, n / 2, true);
      const Bytes second = deflate_bytes(rest + n / 2, n - n / 2, true);
      file.insert(file.end(), second.begin(), second.end());
    }
  }
  write_file(in.file, file);
  return in;
}

// The checkpoint's FNV-1a, as examples/train/checkpoint.cpp computes it.
inline std::uint64_t fnv1a(const unsigned char* data, std::size_t n) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= data[i];
    h *= 1099511628211ull;
  }
  return h;
}

// Checkpoint target. Mode (first byte % 2): 0 the rest is the file; 1 the
// rest is a payload, given a valid header (CURVCKPT, version 1, its length)
// and checksum so that mutations reach the record parser.
inline std::filesystem::path checkpoint_input(const unsigned char* data, std::size_t size) {
  const unsigned mode = size ? data[0] % 2 : 0;
  const unsigned char* rest = size ? data + 1 : data;
  const std::size_t n = size ? size - 1 : 0;
  Bytes file;
  if (mode == 0) {
    file.assign(rest, rest + n);
  } else {
    const char magic[] = "CURVCKPT";
    file.assign(magic, magic + 8);
    put32(file, 1);
    put32(file, static_cast<std::uint32_t>(n)), put32(file, 0);
    file.insert(file.end(), rest, rest + n);
    const std::uint64_t h = fnv1a(rest, n);
    put32(file, static_cast<std::uint32_t>(h)), put32(file, static_cast<std::uint32_t>(h >> 32));
  }
  const std::filesystem::path path = scratch("input.curv");
  write_file(path, file);
  return path;
}

// Under AddressSanitizer the address space is terabytes of shadow memory
// reserved up front: RLIMIT_AS cannot bound what a reader allocates there.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool address_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool address_sanitizer = true;
#else
inline constexpr bool address_sanitizer = false;
#endif
#else
inline constexpr bool address_sanitizer = false;
#endif

// What happened to f() in a child process whose address space may grow by at
// most `extra_bytes` beyond the parent's present size.
enum class ChildOutcome { returned, threw_expected, threw_bad_alloc, threw_other, crashed };
template <class Expected>
ChildOutcome run_with_memory_limit(std::size_t extra_bytes, const std::function<void()>& f) {
  std::size_t pages = 0;
  std::ifstream("/proc/self/statm") >> pages;
  const rlim_t limit = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + extra_bytes;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const rlimit r{limit, limit};
    ::setrlimit(RLIMIT_AS, &r);
    int code = 0;
    try {
      f();
    } catch (const Expected&) {
      code = 1;
    } catch (const std::bad_alloc&) {
      code = 2;
    } catch (...) {
      code = 3;
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return ChildOutcome::crashed;
  switch (WEXITSTATUS(status)) {
    case 0: return ChildOutcome::returned;
    case 1: return ChildOutcome::threw_expected;
    case 2: return ChildOutcome::threw_bad_alloc;
    default: return ChildOutcome::threw_other;
  }
}

}  // namespace curv::fuzz
