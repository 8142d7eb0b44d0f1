// Stop requests from SIGINT / SIGTERM, as an async-signal-safe flag.
#include "curv_examples/signals.hpp"

#include <signal.h>

#include <csignal>

namespace curv::examples {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int signal) {
  if (g_stop_signal == signal) {  // second time: let the default action end the program
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  g_stop_signal = signal;
}

}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // Past `ulimit -f` a write would kill the program with SIGXFSZ, leaving its
  // temporary file behind; ignored, the write fails with EFBIG instead and is
  // reported, its temporary file removed, like any other write error.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGXFSZ, &ignore, nullptr);
}

bool stop_requested() { return g_stop_signal != 0; }
int stop_signal() { return static_cast<int>(g_stop_signal); }
void request_stop(int signal) { g_stop_signal = signal; }
void clear_stop_request() { g_stop_signal = 0; }

}  // namespace curv::examples
