// Progress of a pass over minibatches. On a terminal (isatty on the stream's
// file descriptor) one line is redrawn in place: a bar, the step, the loss so
// far and an ETA. Otherwise (a log file, a pipe, CI) nothing is drawn per
// minibatch and the caller's per-iteration lines are plain text.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace curv::examples {

class Progress {
 public:
  // `stream` is stderr or stdout; `interactive` decides between the bar and
  // plain lines (default: whether the stream is a terminal).
  explicit Progress(std::FILE* stream = stderr);
  Progress(std::FILE* stream, bool interactive);

  bool interactive() const { return interactive_; }

  // Starts a pass of `total` minibatches labelled e.g. "iter 3 H·p".
  void begin(std::string label, std::size_t total);
  // Minibatch `done` (1-based) of the pass finished; `loss` is the running mean
  // (NaN when unknown). Redraws at most ~10 times a second.
  void update(std::size_t done, double loss);
  // Ends the bar (clears the line on a terminal).
  void end();

  // A plain line: on a terminal it clears the bar first and the bar is redrawn
  // on the next update.
  void line(const std::string& text);

 private:
  void draw();

  std::FILE* stream_;
  bool interactive_;
  std::string label_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  double loss_ = 0;
  bool active_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// "1:05:03", "4:07", "12s" for an ETA or an elapsed time.
std::string format_duration(double seconds);

}  // namespace curv::examples
