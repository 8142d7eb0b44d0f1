// CsvTable: a CSV written whole, atomically (CsvLog is the library's,
// curv/optim/csv_log.hpp).
#include "curv_examples/csv.hpp"

#include <stdexcept>

#include <curv/nn/atomic_file.hpp>

namespace curv::examples {

CsvTable::CsvTable(std::vector<std::string> header) : header_(std::move(header)) {}

void CsvTable::add_row(std::vector<CsvCell> row) {
  if (row.size() != header_.size())
    throw std::invalid_argument("curv::examples::CsvTable::add_row: row has " + std::to_string(row.size()) +
                                " cells, the header has " + std::to_string(header_.size()));
  rows_.push_back(std::move(row));
}

void CsvTable::write(const std::filesystem::path& path) const {
  nn::write_file_atomic(path, [&](std::ostream& out) {
    std::vector<CsvCell> header(header_.begin(), header_.end());
    out << optim::csv_row(header) << '\n';
    for (const auto& row : rows_) out << optim::csv_row(row) << '\n';
  });
}

}  // namespace curv::examples
