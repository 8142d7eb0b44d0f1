// CSV writers: CsvTable (whole file, atomic) and CsvLog (row by row, flushed).
#include "curv_examples/csv.hpp"

#include <charconv>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <curv/nn/atomic_file.hpp>

namespace curv::examples {

namespace {

std::string join_header(const std::vector<std::string>& h) {
  std::string s;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (i) s += ',';
    s += h[i];
  }
  return s;
}

std::string format_row(const std::vector<CsvCell>& row) {
  std::string s;
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i) s += ',';
    s += csv_format(row[i]);
  }
  return s;
}

void check_length(const char* who, std::size_t got, std::size_t want) {
  if (got != want)
    throw std::invalid_argument(std::string("curv::examples::") + who + ": row has " +
                                std::to_string(got) + " cells, the header has " + std::to_string(want));
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

}  // namespace

std::string csv_format(const CsvCell& cell) {
  if (const auto* d = std::get_if<double>(&cell)) {
    if (std::isnan(*d)) return "nan";
    if (std::isinf(*d)) return *d > 0 ? "inf" : "-inf";
    char buf[64];
    // Shortest representation that round-trips.
    const auto r = std::to_chars(buf, buf + sizeof buf, *d);
    return std::string(buf, r.ptr);
  }
  if (const auto* i = std::get_if<long long>(&cell)) return std::to_string(*i);
  const std::string& s = std::get<std::string>(cell);
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  q += '"';
  return q;
}

CsvTable::CsvTable(std::vector<std::string> header) : header_(std::move(header)) {}

void CsvTable::add_row(std::vector<CsvCell> row) {
  check_length("CsvTable::add_row", row.size(), header_.size());
  rows_.push_back(std::move(row));
}

void CsvTable::write(const std::filesystem::path& path) const {
  nn::write_file_atomic(path, [&](std::ostream& out) {
    out << join_header(header_) << '\n';
    for (const auto& row : rows_) out << format_row(row) << '\n';
  });
}

CsvLog::CsvLog(const std::filesystem::path& path, std::vector<std::string> header, Mode mode)
    : path_(path), header_(std::move(header)) {
  bool write_header = true;
  if (mode == Mode::append && std::filesystem::exists(path) && std::filesystem::file_size(path) > 0) {
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    if (first != join_header(header_))
      throw std::runtime_error("curv: cannot append to log " + path.string() + ": its header is '" +
                               first + "', expected '" + join_header(header_) + "'");
    write_header = false;
  }
  out_.open(path, mode == Mode::append ? std::ios::app : std::ios::trunc);
  if (!out_) throw std::runtime_error("curv: cannot open log " + path.string() + " for writing");
  if (write_header) {
    out_ << join_header(header_) << '\n';
    out_.flush();
  }
}

void CsvLog::write_row(const std::vector<CsvCell>& row) {
  check_length("CsvLog::write_row", row.size(), header_.size());
  out_ << format_row(row) << '\n';
  out_.flush();
  if (!out_) throw std::runtime_error("curv: writing log " + path_.string() + " failed");
}

CsvContent read_csv(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("curv: cannot open " + path.string());
  CsvContent c;
  std::string line;
  if (std::getline(in, line)) c.header = split(line);
  while (std::getline(in, line))
    if (!line.empty()) c.rows.push_back(split(line));
  return c;
}

}  // namespace curv::examples
