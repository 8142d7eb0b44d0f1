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

  // Starts a bar of `total` steps labelled e.g. "adam epoch 3/10", of which
  // `already_done` are done (a resumed run): the ETA counts from there.
  void begin(std::string label, std::size_t total, std::size_t already_done = 0);
  bool active() const { return active_; }
  // Minibatch `done` (1-based) of the pass finished; `loss` is the running mean
  // (NaN when unknown). Redraws at most ~10 times a second.
  void update(std::size_t done, double loss);
  // Ends the bar (clears the line on a terminal).
  void end();

  // A plain line on the progress stream: on a terminal the bar is cleared
  // first and redrawn after it.
  void line(const std::string& text);
  // Clear the bar (to write elsewhere, e.g. stdout) and draw it again.
  void suspend();
  void resume();

 private:
  void draw();

  std::FILE* stream_;
  bool interactive_;
  std::string label_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  std::size_t done_at_begin_ = 0;
  double loss_ = 0;
  bool active_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// "1:05:03", "4:07", "12s" for an ETA or an elapsed time.
std::string format_duration(double seconds);

}  // namespace curv::examples
