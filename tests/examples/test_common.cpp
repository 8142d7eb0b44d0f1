// The example programs' shared utilities: CSV writers, stop flag, progress.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "curv_examples/csv.hpp"
#include "curv_examples/progress.hpp"
#include "curv_examples/signals.hpp"

namespace fs = std::filesystem;
using namespace curv::examples;

namespace {

fs::path scratch(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("curv_examples_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d / name;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Csv, TableWritesHeaderThenRowsAndNumbersRoundTrip) {
  const fs::path p = scratch("table.csv");
  CsvTable t({"a", "b", "c"});
  t.add_row({0.1, 3LL, std::string("x,y")});
  t.add_row({1.0 / 3.0, -2LL, std::string("plain")});
  t.write(p);
  const CsvContent c = read_csv(p);
  ASSERT_EQ(c.header, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(std::stod(c.rows[1][0]), 1.0 / 3.0);
  EXPECT_EQ(c.rows[0][1], "3");
  EXPECT_NE(slurp(p).find("\"x,y\""), std::string::npos);
}

TEST(Csv, RowOfWrongLengthIsRefused) {
  CsvTable t({"a", "b"});
  EXPECT_THROW(t.add_row({1.0}), std::invalid_argument);
}

TEST(Csv, LogAppendsToAMatchingHeaderAndRefusesAnother) {
  const fs::path p = scratch("log.csv");
  {
    CsvLog log(p, {"epoch", "loss"}, CsvLog::Mode::truncate);
    log.write_row({1LL, 0.5});
  }
  {
    CsvLog log(p, {"epoch", "loss"}, CsvLog::Mode::append);
    log.write_row({2LL, 0.25});
  }
  const CsvContent c = read_csv(p);
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.rows[1][0], "2");
  EXPECT_THROW(CsvLog(p, {"epoch", "other"}, CsvLog::Mode::append), std::runtime_error);
}

TEST(Signals, SigtermSetsTheStopFlag) {
  install_stop_handlers();
  clear_stop_request();
  EXPECT_FALSE(stop_requested());
  std::raise(SIGTERM);
  EXPECT_TRUE(stop_requested());
  EXPECT_EQ(stop_signal(), SIGTERM);
  clear_stop_request();
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(format_duration(12.2), "12s");
  EXPECT_EQ(format_duration(247), "4:07");
  EXPECT_EQ(format_duration(3903), "1:05:03");
}

}  // namespace
