// Atomic file writing: a file either has its old content or its complete new
// content, never a half-written one (write to a sibling temp file, flush,
// fsync it, rename it over the target, fsync the folder). curv's one
// implementation: nn's parameter files, datasets' IDX writer and curv-train's
// checkpoint, log and exports all write through it. It lives in nn, the
// lowest module that writes files.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace curv::nn {

// Writes `path` by calling `write` on a stream into a temporary file in the
// same directory and renaming it over `path` once `write` returned and the
// data reached the disk. On any failure the temporary file is removed, `path`
// is untouched, and std::runtime_error names the file.
void write_file_atomic(const std::filesystem::path& path,
                       const std::function<void(std::ostream&)>& write);

// Syncs `from`, renames it over `to` and syncs the directory, so that the
// rename itself survives a crash. For files written by other code (e.g.
// zlib's gzFile) into a temp_path_beside(to).
void commit_file(const std::filesystem::path& from, const std::filesystem::path& to);

// A fresh temporary path beside `path` (same directory, so rename is atomic):
// "<path>.tmp.<pid>.<n>".
std::filesystem::path temp_path_beside(const std::filesystem::path& path);

// Removes the temporary files that writes of `names` in `dir` left behind
// when they were killed: regular files named "<name>.tmp.*" (this file's
// writers) or "<name>.tmp-*" (what nn::save_parameters wrote before it used
// them). Only for a folder that
// no other process writes at the same time. Returns what it removed.
std::vector<std::filesystem::path> remove_stale_temp_files(const std::filesystem::path& dir,
                                                           const std::vector<std::string>& names);

}  // namespace curv::nn
