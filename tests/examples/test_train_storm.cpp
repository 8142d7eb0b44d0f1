// Interruption storms: the built curv-train is killed over and over at
// seeded random moments — SIGKILL anywhere, including inside a checkpoint
// write, and SIGTERM / SIGINT, which it answers by saving and exiting — and
// resumed each time. When a run finally finishes, its parameters must equal an
// uninterrupted run's bit for bit and its log the uninterrupted log row for row
// (every column but the wall-clock seconds). Bounded: a fixed number of
// interruptions per storm, each within a run that lasts about a second.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "train_fixtures.hpp"

#ifdef CURV_TRAIN_BINARY

namespace fs = std::filesystem;
using curv::examples::test::bytes_of;

namespace {

fs::path scratch(const std::string& name) { return curv::examples::test::scratch_dir("curv_storm_test", name); }

// Starts curv-train with `args` (no shell), its output to `output`.
pid_t spawn(const std::vector<std::string>& args, const fs::path& output) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::FILE* out = std::freopen(output.c_str(), "a", stdout);
    if (out) ::dup2(::fileno(stdout), 2);
    std::vector<char*> argv;
    std::string binary = CURV_TRAIN_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

// The log's rows without the `seconds` column (the only one that depends on
// the clock).
std::vector<std::string> rows_without_seconds(const fs::path& log) {
  std::ifstream in(log);
  std::vector<std::string> rows;
  std::string line;
  int seconds = -1;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (rows.empty() && seconds < 0)
      for (std::size_t i = 0; i < cells.size(); ++i)
        if (cells[i] == "seconds") seconds = static_cast<int>(i);
    std::string row;
    for (std::size_t i = 0; i < cells.size(); ++i)
      if (static_cast<int>(i) != seconds) row += cells[i] + ",";
    rows.push_back(row);
  }
  return rows;
}

struct StormReport {
  int kills = 0, terms = 0, ints = 0, launches = 0;
};

// Runs `optimizer` on the tiny digits uninterrupted, then through a storm of
// `interruptions`, and compares the two.
void storm(const std::string& optimizer, const std::vector<std::string>& extra, int interruptions,
           unsigned seed) {
  const fs::path data = scratch(optimizer + "_data");
  curv::examples::test::write_block_digits(data, 60, 20);
  auto args_for = [&](const fs::path& dir) {
    std::vector<std::string> a = {"--dataset",    data.string(), "--train-size", "40",        "--val-size", "12",
                                  "--model",      "mlp",         "--hidden",     "8",         "--optimizer", optimizer,
                                  "--batch-size", "16",          "--seed",       "3",         "--dtype",    "float64",
                                  "--threads",    "1",           "--log",        (dir / "log.csv").string(),
                                  "--checkpoint", (dir / "ckpt").string(), "--checkpoint-every", "1"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };

  // The uninterrupted run, timed: the storm's interruptions land within it.
  const fs::path calm = scratch(optimizer + "_calm");
  const auto t0 = std::chrono::steady_clock::now();
  const int calm_status = wait_for(spawn(args_for(calm), calm / "output.txt"));
  const double calm_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(WIFEXITED(calm_status) && WEXITSTATUS(calm_status) == 0) << bytes_of(calm / "output.txt");

  // Each launch lives for a random share of about 2/interruptions of the calm
  // run, so that the storm advances through the whole run — checkpoint writes
  // included (one per epoch) — before its last launch finishes it. Should the
  // machine get faster than it was for the calm run (a shared machine's load
  // comes and goes), a launch may finish before its signal and the storm end
  // with too few interruptions to test much: it then starts over with half
  // the window, at most four times.
  fs::path dir;
  std::mt19937 rng(seed);
  StormReport report;
  int hits = 0;
  bool finished = false;
  double window_ms = 2.0 * calm_ms / interruptions;
  for (int attempt = 0; attempt < 4 && (attempt == 0 || hits < interruptions / 2); ++attempt, window_ms /= 2) {
    dir = scratch(optimizer + "_storm");
    std::uniform_real_distribution<double> when(0.0, window_ms);
    report = StormReport();
    hits = 0;
    finished = false;
    for (int i = 0; !finished && i <= interruptions; ++i) {
      std::vector<std::string> args = args_for(dir);
      // Resume what the last run saved; start afresh (replacing a log or
      // checkpoint folder without a checkpoint) when nothing was saved yet.
      args.push_back(fs::exists(dir / "ckpt" / "checkpoint.curv") ? "--resume" : "--overwrite");
      const pid_t pid = spawn(args, dir / "output.txt");
      ++report.launches;
      if (i < interruptions) {
        std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(when(rng)));
        const int pick = static_cast<int>(rng() % 4);  // SIGKILL twice as often as the others
        const int sig = pick < 2 ? SIGKILL : pick == 2 ? SIGTERM : SIGINT;
        ::kill(pid, sig);
        (sig == SIGKILL ? report.kills : sig == SIGTERM ? report.terms : report.ints)++;
      }
      const int status = wait_for(pid);
      if (WIFEXITED(status)) {
        const int code = WEXITSTATUS(status);
        // 0: done; 128 + signal: stopped by SIGTERM/SIGINT after saving.
        ASSERT_TRUE(code == 0 || code == 128 + SIGTERM || code == 128 + SIGINT)
            << "launch " << report.launches << " exited " << code << ":\n" << bytes_of(dir / "output.txt");
        finished = code == 0;
        hits += code != 0;
      } else {
        ++hits;
        // SIGKILL; SIGTERM or SIGINT only when it arrived before curv-train
        // installed its handlers.
        ASSERT_TRUE(WIFSIGNALED(status)) << "launch " << report.launches;
        const int sig = WTERMSIG(status);
        ASSERT_TRUE(sig == SIGKILL || sig == SIGTERM || sig == SIGINT)
            << "launch " << report.launches << " died of signal " << sig << ":\n" << bytes_of(dir / "output.txt");
      }
    }
    ASSERT_TRUE(finished) << "not finished after " << report.launches << " launches";
  }
  // Most interruptions must have hit a running curv-train, or the storm tested little.
  EXPECT_GE(hits, interruptions / 2) << report.launches << " launches";
  std::printf("%s storm: %d launches, %d interrupted (signals sent: %d SIGKILL, %d SIGTERM, %d SIGINT), calm run %.0f ms, window %.0f ms\n",
              optimizer.c_str(), report.launches, hits, report.kills, report.terms, report.ints, calm_ms, window_ms * 2);

  // No temporary file is left behind, and the result is the calm run's.
  for (const auto& e : fs::directory_iterator(dir / "ckpt"))
    EXPECT_TRUE(e.path().filename() == "checkpoint.curv" || e.path().filename() == "model.npz") << e.path();
  const std::string model = bytes_of(dir / "ckpt" / "model.npz");
  EXPECT_FALSE(model.empty());
  EXPECT_TRUE(model == bytes_of(calm / "ckpt" / "model.npz")) << "final parameters differ from the calm run's";
  EXPECT_EQ(rows_without_seconds(dir / "log.csv"), rows_without_seconds(calm / "log.csv"));
}

TEST(TrainStorm, ScgKilledAndStoppedAtRandomResumesToTheUninterruptedResult) {
  storm("scg", {"--epochs", "150"}, 30, 11);
}

TEST(TrainStorm, AdamKilledAndStoppedAtRandomResumesToTheUninterruptedResult) {
  storm("adam", {"--epochs", "60", "--lr", "0.01"}, 30, 12);
}

}  // namespace

#endif  // CURV_TRAIN_BINARY
