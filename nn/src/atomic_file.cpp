// Atomic file writing through a sibling temporary file and rename(2).
#include "curv/nn/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace curv::nn {

namespace fs = std::filesystem;

namespace {

void fsync_path(const fs::path& p, bool directory) {
  const int fd = ::open(p.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return;  // best effort: some file systems refuse to open directories
  ::fsync(fd);
  ::close(fd);
}

fs::path parent_or_dot(const fs::path& p) {
  return p.has_parent_path() ? p.parent_path() : fs::path(".");
}

}  // namespace

fs::path temp_path_beside(const fs::path& path) {
  static std::atomic<unsigned> counter{0};
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  return tmp;
}

void commit_file(const fs::path& from, const fs::path& to) {
  fsync_path(from, false);
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) {
    fs::remove(from, ec);
    throw std::runtime_error("curv: cannot rename " + from.string() + " to " + to.string() + ": " +
                             ec.message());
  }
  fsync_path(parent_or_dot(to), true);
}

void write_file_atomic(const fs::path& path, const std::function<void(std::ostream&)>& write) {
  const fs::path tmp = temp_path_beside(path);
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out)
        throw std::runtime_error("curv: cannot create " + tmp.string() + ": " + std::strerror(errno));
      errno = 0;
      write(out);
      out.flush();
      // errno tells why (EFBIG past `ulimit -f`, ENOSPC on a full disk); the stream does not.
      if (!out)
        throw std::runtime_error("curv: writing " + path.string() + " failed" +
                                 (errno ? std::string(": ") + std::strerror(errno) : std::string()) + "; " +
                                 (fs::exists(path) ? "its previous content is kept" : "it was not created"));
      out.close();
      if (out.fail())
        throw std::runtime_error("curv: writing " + path.string() + " failed" +
                                 (errno ? std::string(": ") + std::strerror(errno) : std::string()));
    }
    commit_file(tmp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

std::vector<fs::path> remove_stale_temp_files(const fs::path& dir, const std::vector<std::string>& names) {
  std::vector<fs::path> removed;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    for (const std::string& name : names) {
      const bool temp = file.size() > name.size() + 5 && file.compare(0, name.size(), name) == 0 &&
                        (file.compare(name.size(), 5, ".tmp.") == 0 || file.compare(name.size(), 5, ".tmp-") == 0);
      std::error_code file_ec;
      if (temp && it->is_regular_file(file_ec) && fs::remove(it->path(), file_ec)) {
        removed.push_back(it->path());
        break;
      }
    }
  }
  return removed;
}

}  // namespace curv::nn
