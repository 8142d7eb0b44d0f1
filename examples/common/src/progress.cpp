// Progress bar on a terminal, silence per minibatch otherwise.
#include "curv_examples/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace curv::examples {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%lds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

Progress::Progress(std::FILE* stream) : Progress(stream, ::isatty(::fileno(stream)) == 1) {}

Progress::Progress(std::FILE* stream, bool interactive) : stream_(stream), interactive_(interactive) {}

void Progress::begin(std::string label, std::size_t total, std::size_t already_done) {
  label_ = std::move(label);
  total_ = total;
  done_ = already_done;
  done_at_begin_ = already_done;
  loss_ = std::nan("");
  active_ = true;
  start_ = std::chrono::steady_clock::now();
  last_draw_ = {};
  if (interactive_) draw();
}

void Progress::update(std::size_t done, double loss) {
  done_ = done;
  loss_ = loss;
  if (!interactive_ || !active_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done_ < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  draw();
}

void Progress::end() {
  if (interactive_ && active_) {
    std::fputs("\r\033[K", stream_);
    std::fflush(stream_);
  }
  active_ = false;
}

void Progress::line(const std::string& text) {
  if (interactive_ && active_) std::fputs("\r\033[K", stream_);
  std::fputs(text.c_str(), stream_);
  std::fputc('\n', stream_);
  std::fflush(stream_);
  if (interactive_ && active_) draw();
}

void Progress::suspend() {
  if (interactive_ && active_) {
    std::fputs("\r\033[K", stream_);
    std::fflush(stream_);
  }
}

void Progress::resume() {
  if (interactive_ && active_) draw();
}

void Progress::draw() {
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  const double frac = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 0.0;
  const std::size_t done_here = done_ - done_at_begin_;
  const double eta = done_here ? elapsed * static_cast<double>(total_ - done_) / static_cast<double>(done_here) : NAN;
  constexpr int width = 30;
  const int filled = static_cast<int>(frac * width);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar += std::string(static_cast<std::size_t>(width - filled), '.');
  char loss[32] = "";
  if (std::isfinite(loss_)) std::snprintf(loss, sizeof loss, " loss %.5f", loss_);
  std::fprintf(stream_, "\r\033[K%s [%s] %zu/%zu%s eta %s", label_.c_str(), bar.c_str(), done_, total_,
               loss, format_duration(eta).c_str());
  std::fflush(stream_);
}

}  // namespace curv::examples
