// curv-train's engine: load a dataset, build a model, run an optimizer epoch
// by epoch, log a CSV row per epoch, checkpoint, resume, report test accuracy.
// The command-line program (main.cpp), batch_sweep and compare all call
// run_training(); the tests call it on tiny subsets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <curv/dist/communicator.hpp>

namespace curv::examples {

struct TrainConfig {
  std::string dataset = "mnist";  // mnist | fashion-mnist | a folder of IDX files
  std::string mnist_dir;          // where --dataset mnist looks ("" = $CURV_MNIST_DIR or data/mnist-full)
  std::optional<std::size_t> train_size;  // default: the training file minus the validation set
  std::optional<std::size_t> val_size;    // default: 1/6 of the training file, at most 10,000
  std::optional<std::size_t> test_size;   // default: the whole test file
  bool standardize = true;                // per pixel, fitted on the training split

  std::string model = "article-cnn";  // article-cnn | mlp
  std::size_t kernel_size = 3;        // article-cnn
  std::size_t hidden = 100;           // mlp: 784 → hidden → 10
  // Dropout before the last Linear layer (0: none); its mask per example and
  // epoch comes from --seed (nn::ForwardContext).
  double dropout = 0;

  std::string optimizer = "scg";  // scg | sgd | adam | lbfgs | cg
  std::optional<double> lr;       // sgd (default 0.01) and adam (default 0.001)
  double momentum = 0;            // sgd
  // scg, hf: the damping λ of the first iteration (their Options'
  // lambda_initial; unset = the optimizer's default, scg 1e-6, hf 1).
  std::optional<double> lambda_initial;
  std::string lr_schedule;        // sgd, adam: --lr-schedule's spec ("" = constant; optimizers.hpp)
  std::size_t accumulate = 1;     // sgd, adam: minibatches per step
  double weight_decay = 0;        // every optimizer: the L2 penalty ½λ|w|² on the weights (not the biases)
  std::optional<double> clip_grad_norm;  // sgd, adam: clip each step's gradient to this norm
  // Stop when the validation loss has not improved for this many epochs,
  // and test and save the best epoch's weights (optim::EarlyStopping).
  std::optional<std::size_t> early_stopping;
  std::string curvature = "exact";  // scg: exact | gauss-newton | finite-difference
  // hf, trust-ncg: the share of the training set each iteration's curvature
  // products run on, a new subsample per iteration (Martens' §4.3); the
  // gradient stays the whole set's.
  double curvature_fraction = 1;
  long long batch_size = 256;       // −1 = the whole set in one batch
  std::size_t epochs = 50;
  // Also stop after the first epoch that brings the optimizer's passes over
  // the training data to this many (a budget across optimizers whose epochs
  // cost different numbers of passes; compare's and the race's).
  std::optional<double> max_passes;
  std::uint64_t seed = 0;
  std::string dtype = "float32";  // float32 | float64
  int threads = 0;                // 0 = every core

  std::string log;         // CSV file, one row per epoch ("" = none)
  // Also evaluate the test set after every epoch and log test_loss and
  // test_accuracy (a forward pass over it per epoch; nothing is chosen by it).
  bool log_test = false;
  std::string checkpoint;  // folder ("" = none)
  std::size_t checkpoint_every = 1;  // epochs between checkpoints
  bool resume = false;
  bool overwrite = false;  // a fresh run may replace an existing checkpoint

  // Reference comparisons (e.g. an independent PyTorch implementation):
  std::string export_data;  // .npz of the train/val/test arrays exactly as training sees them ("" = none)
  std::string init;         // start from these parameters (nn::save_parameters' .npz/.npy) instead of the seeded init
  std::string save_model;   // write the final parameters here (nn::save_parameters) at the end ("" = none)

  // The processes of an mpirun job (curv::dist): each holds a shard of
  // every split; only rank 0 prints, logs and writes files. The default:
  // this process alone.
  dist::Communicator comm;

  bool quiet = false;       // no per-epoch lines
  std::FILE* out = stdout;  // where lines and the final test_accuracy= go
  // The progress bar: on this stream, drawn when it is a terminal unless
  // progress_bar says otherwise. SCG, L-BFGS and CG move it over the
  // minibatches of every pass, SGD and Adam over the minibatch steps of an epoch.
  std::FILE* progress = stderr;
  std::optional<bool> progress_bar;

  // For tests: act as if SIGINT arrived after this many optimizer steps of this run.
  std::optional<std::size_t> stop_after_steps;
  // For tests: act as if SIGINT arrived as the N-th minibatch of this run's
  // full passes (training, validation, test) is about to start: mid-pass.
  std::optional<std::size_t> stop_after_batches;
};

struct TrainResult {
  std::size_t epochs_done = 0;  // epochs completed in total (resumed ones included)
  bool interrupted = false;     // stopped by a signal (or stop_after_steps) before `epochs`
  int signal = 0;
  double train_loss = 0;
  double val_loss = 0;
  double val_accuracy = 0;
  double test_loss = 0;
  double test_accuracy = 0;  // NaN when interrupted
  std::size_t num_parameters = 0;
  std::vector<double> parameters;  // final w, converted to double (exact for float)
  std::string stop_message;        // why the optimizer stopped early, if it did
  // Degenerate data (every input feature constant, one class in the training
  // set): one line each, also printed to stderr.
  std::vector<std::string> warnings;
};

// A run whose optimizer step, training loss or validation loss turned NaN or
// ±inf: nothing of it was written (the last good checkpoint, model.npz, the
// log and --save-model are as they were); the message names the epoch, the
// step and, where known, the minibatch and the parameter.
class TrainingDiverged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws std::invalid_argument naming the option and its bad value: values out
// of range, combinations that contradict each other, --threads above 4 × the
// cores of this machine. (run_training also refuses an MLP whose weights and
// optimizer state do not fit in its memory, once the image size is known.)
void validate(const TrainConfig& config);

// The most --threads this machine accepts: 4 × the cores TBB may use.
int max_threads();

// Runs (or resumes) a training; throws on bad data, options or checkpoints.
// Validates everything, then writes: the options, every output path (an
// existing --log, --export-data, --save-model or checkpoint is refused without
// --overwrite or --resume; a folder that cannot be written is refused), the
// three splits (non-empty, one geometry, labels 0–9, named by file and record)
// and, on --resume, the checkpoint's settings and the log are all checked
// before any file is created or changed: a refused run leaves every file as it was.
TrainResult run_training(const TrainConfig& config);

// The CSV columns of the log: the common ones (with --log-test the test
// loss and accuracy), then the optimizer's own.
std::vector<std::string> log_columns(const TrainConfig& config);

}  // namespace curv::examples
