// SIGINT / SIGTERM as a request to stop: the handler only sets a flag, the
// training loop checks it between iterations (and between minibatches, through
// an optimizer callback), writes its checkpoint and exits cleanly. A second
// signal of the same kind restores the default action, so a stuck program can
// still be killed with a second Ctrl-C.
#pragma once

namespace curv::examples {

// SIGINT/SIGTERM set the stop flag; SIGXFSZ is ignored, so that a write past
// `ulimit -f` fails with EFBIG (a reported write error) instead of killing.
void install_stop_handlers();
bool stop_requested();
// Which signal asked to stop (0 if none): for the exit status 128 + signal.
int stop_signal();
// Sets the flag as a signal would (tests, and programs that stop themselves).
void request_stop(int signal);
void clear_stop_request();

}  // namespace curv::examples
