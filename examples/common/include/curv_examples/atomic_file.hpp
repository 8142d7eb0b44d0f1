// Atomic file writing: a file either has its old content or its complete new
// content, never a half-written one (write to a sibling temp file, flush,
// fsync, rename over the target).
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace curv::examples {

// Writes `path` by calling `write` on a stream into a temporary file in the
// same directory and renaming it over `path` once `write` returned and the
// data reached the disk. On any failure the temporary file is removed, `path`
// is untouched, and std::runtime_error names the file.
void write_file_atomic(const std::filesystem::path& path,
                       const std::function<void(std::ostream&)>& write);

// Renames `from` over `to` and syncs the directory, so that the rename itself
// survives a crash. Used for files written by other code (e.g. .npz savers).
void commit_file(const std::filesystem::path& from, const std::filesystem::path& to);

// A fresh temporary path beside `path` (same directory, so rename is atomic):
// "<path>.tmp.<pid>.<n>".
std::filesystem::path temp_path_beside(const std::filesystem::path& path);

// Removes the temporary files that writes of `names` in `dir` left behind
// when they were killed: regular files named "<name>.tmp.*" (this file's
// writers) or "<name>.tmp-*" (nn::save_parameters'). Only for a folder that
// no other process writes at the same time. Returns what it removed.
std::vector<std::filesystem::path> remove_stale_temp_files(const std::filesystem::path& dir,
                                                           const std::vector<std::string>& names);

}  // namespace curv::examples
