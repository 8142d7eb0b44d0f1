// CSV output of the example programs. Two writers, for two lifetimes:
//
//  * CsvTable collects rows in memory and writes the whole file atomically
//    (write_file_atomic) — for results that are only meaningful complete
//    (newton1d's curve, rosenbrock's paths). A reader never sees half a table.
//  * CsvLog (curv/optim/csv_log.hpp, the library's, also under the CsvLogger
//    callback) appends one row at a time and flushes after each — for
//    training logs, so that an interrupted run keeps every finished epoch and
//    a resumed run continues the same file.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <curv/optim/csv_log.hpp>

namespace curv::examples {

using optim::CsvCell;
using optim::CsvContent;
using optim::CsvLog;
using optim::csv_format;
using optim::read_csv;

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

}  // namespace curv::examples
