// CsvLog: a CSV written row by row, flushed after each.
#include "curv/optim/csv_log.hpp"

#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace curv::optim {

namespace {

std::string join_header(const std::vector<std::string>& h) {
  std::string s;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (i) s += ',';
    s += h[i];
  }
  return s;
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

std::string csv_row(const std::vector<CsvCell>& cells) {
  std::string s;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i) s += ',';
    s += csv_format(cells[i]);
  }
  return s;
}

CsvLog::CsvLog(const std::filesystem::path& path, std::vector<std::string> header, Mode mode)
    : path_(path), header_(std::move(header)) {
  bool write_header = true;
  if (mode == Mode::append && std::filesystem::exists(path) && std::filesystem::file_size(path) > 0) {
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    if (first != join_header(header_))
      throw std::runtime_error("curv: cannot append to log " + path.string() + ": its header is '" + first +
                               "', expected '" + join_header(header_) + "'");
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
  if (row.size() != header_.size())
    throw std::invalid_argument("curv::optim::CsvLog::write_row: row has " + std::to_string(row.size()) +
                                " cells, the header of " + path_.string() + " has " + std::to_string(header_.size()));
  out_ << csv_row(row) << '\n';
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

}  // namespace curv::optim
