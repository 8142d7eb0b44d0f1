// CSV output of the example programs. Two writers, for two lifetimes:
//
//  * CsvTable collects rows in memory and writes the whole file atomically
//    (write_file_atomic) — for results that are only meaningful complete
//    (newton1d's curve, rosenbrock's paths). A reader never sees half a table.
//  * CsvLog appends one row at a time and flushes after each — for training
//    logs, so that an interrupted run keeps every finished epoch and a
//    resumed run continues the same file.
//
// Both write the header row first. Numbers are written with max_digits10, so
// a value read back is the value written.
#pragma once

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <variant>
#include <vector>

namespace curv::examples {

// One cell: a number (double, or an integer written without a decimal point)
// or text (quoted when it holds a comma or a quote).
using CsvCell = std::variant<double, long long, std::string>;

std::string csv_format(const CsvCell& cell);

class CsvTable {
 public:
  explicit CsvTable(std::vector<std::string> header);
  // Throws std::invalid_argument when the row's length differs from the header's.
  void add_row(std::vector<CsvCell> row);
  std::size_t rows() const { return rows_.size(); }
  void write(const std::filesystem::path& path) const;  // atomically

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<CsvCell>> rows_;
};

class CsvLog {
 public:
  enum class Mode { truncate, append };
  // truncate: a new file with the header. append: keeps an existing file whose
  // header matches (throws std::runtime_error naming both headers if not) and
  // writes the header only when the file is new or empty.
  CsvLog(const std::filesystem::path& path, std::vector<std::string> header, Mode mode);
  // Writes and flushes one row; throws when its length differs from the header's.
  void write_row(const std::vector<CsvCell>& row);
  const std::filesystem::path& path() const { return path_; }

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

}  // namespace curv::examples
