// A training log in CSV: CsvLog appends one row at a time and flushes after
// each, so that an interrupted run keeps every finished epoch and a resumed
// run continues the same file (the CsvLogger callback writes through it).
// Numbers are written in their shortest form that reads back as the same
// double; the header row comes first.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

namespace curv::optim {

// One cell: a number (double, or an integer written without a decimal point)
// or text (quoted when it holds a comma, a quote or a newline).
using CsvCell = std::variant<double, long long, std::string>;

std::string csv_format(const CsvCell& cell);
// The cells joined with commas (csv_format each).
std::string csv_row(const std::vector<CsvCell>& cells);

class CsvLog {
 public:
  enum class Mode { truncate, append };
  // truncate: a new file with the header. append: keeps an existing file whose
  // header matches (throws std::runtime_error naming both headers if not) and
  // writes the header only when the file is new or empty.
  CsvLog(const std::filesystem::path& path, std::vector<std::string> header, Mode mode);
  // Writes and flushes one row; throws std::invalid_argument when its length
  // differs from the header's, std::runtime_error when the write fails.
  void write_row(const std::vector<CsvCell>& row);
  const std::filesystem::path& path() const { return path_; }
  const std::vector<std::string>& header() const { return header_; }

 private:
  std::filesystem::path path_;
  std::vector<std::string> header_;
  std::ofstream out_;
};

// Reads a CSV written by these writers (no quoted commas): the header and the
// rows as text cells. For tests and for resuming logs.
struct CsvContent {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
CsvContent read_csv(const std::filesystem::path& path);

}  // namespace curv::optim
