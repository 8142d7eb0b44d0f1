// curv-train: train a classifier on MNIST-format data with SCG (exact
// curvature by forward-over-reverse), L-BFGS, nonlinear CG, SGD or Adam; log every epoch to CSV,
// checkpoint, resume bit-identically, and print test_accuracy= at the end.
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>

#include <malloc.h>

#include <CLI/CLI.hpp>

#include <curv/dist.hpp>

#include "curv_examples/signals.hpp"
#include "curv_examples/train_options.hpp"
#include "train/messages.hpp"
#include "train/optimizers.hpp"
#include "train/train.hpp"

using namespace curv::examples;

namespace {

// Every minibatch records a tape of the same size and frees it. glibc's
// defaults hand large blocks straight back to the kernel, so the next batch
// page-faults them all in again; keeping freed memory in the heap removes that
// system time without changing peak memory (3 SCG epochs on 2,000 digits:
// 9.4 s → 7.9 s wall, sys 3.9 s → 0.4 s, same peak, same results).
void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum: blocks below it come from the heap
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

// "sgd (default 0.01), adam (default 0.001)": the optimizers for which
// `takes` holds, each with its default of an option (for --help: six
// significant digits, 1e-06 rather than num's 9.9999999999999995e-07).
std::string with_defaults(bool (*takes)(const OptimizerEntry&), double OptimizerEntry::*value) {
  std::ostringstream s;
  for (const OptimizerEntry& e : optimizer_table())
    if (takes(e)) s << (s.tellp() > 0 ? ", " : "") << e.name << " (default " << e.*value << ")";
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  // Under mpirun, MPI for curv::dist; otherwise this process alone.
  const curv::dist::Session session(argc, argv);
  const curv::dist::Communicator& comm = session.world();
  // Usage errors are the same on every rank: rank 0 reports them.
  auto usage_error = [&comm](const std::string& what) {
    if (comm.is_root()) std::cerr << "curv-train: " << what << "\n";
    return 2;
  };
  CLI::App app{
      "curv-train: train the article's CNN (or an MLP) on MNIST-format data with Scaled Conjugate Gradient\n"
      "(exact Hessian-vector products, gradient and curvature accumulated over minibatches), L-BFGS, nonlinear CG,\n"
      "SGD, Adam, Hessian-free (hf) or trust-region Newton-CG (trust-ncg). One epoch is one SCG, L-BFGS, CG, hf or\n"
      "trust-ncg iteration (however many passes it takes) or one pass of minibatch steps (SGD, Adam).\n"
      "Prints one line per epoch and, at the end, test_accuracy=<fraction>. SIGINT/SIGTERM write a checkpoint\n"
      "(with --checkpoint) and stop; --resume continues bit-identically."};
  app.get_formatter()->column_width(34);
  TrainConfig c;
  std::string batch = "256";
  double lr = 0;

  app.add_option("--dataset", c.dataset,
                 "mnist (the full MNIST, 60,000 + 10,000 images, in data/mnist-full or $CURV_MNIST_DIR), "
                 "mnist-small (10,000 MNIST digits in data/mnist-small, for quick runs), fashion-mnist "
                 "(/usr/share/datasets/fashion-mnist) or a folder DIR holding train-images-idx3-ubyte[.gz], "
                 "train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]")
      ->capture_default_str();
  app.add_option("--mnist-dir", c.mnist_dir, "where --dataset mnist looks (default: $CURV_MNIST_DIR, else data/mnist-full)");
  app.add_option("--train-size", c.train_size,
                 "training examples, drawn from the training file with --seed (default: all but the validation set)")
      ->check(whole_number());
  app.add_option("--val-size", c.val_size,
                 "validation examples, drawn from the training file, disjoint from the training set "
                 "(default: 1/6 of the training file, at most 10000)")
      ->check(whole_number());
  app.add_option("--test-size", c.test_size, "test examples from the test file (default: all)")->check(whole_number());
  bool no_standardize = false;
  app.add_flag("--no-standardize", no_standardize,
               "do not standardize inputs (default: each pixel with the training split's mean and standard deviation)");
  app.add_option("--model", c.model, "article-cnn (conv 3x3x32, tanh, maxpool 2, dense 100, tanh, dense 10) or mlp")
      ->capture_default_str();
  app.add_option("--kernel-size", c.kernel_size, "article-cnn: convolution kernel size (odd, up to 27)")
      ->check(whole_number())
      ->capture_default_str();
  app.add_option("--hidden", c.hidden, "mlp: hidden units (input -> hidden -> 10, tanh)")
      ->check(whole_number())
      ->capture_default_str();
  app.add_option("--dropout", c.dropout,
                 "probability of nn::Dropout before the last dense layer, in [0, 1) (0: none); a new mask per "
                 "epoch for sgd/adam, one fixed mask for the full-dataset optimizers")
      ->capture_default_str();
  // The optimizers' names and --lr's defaults come from the table (optimizers.hpp).
  const std::string lr_help =
      "learning rate of " + with_defaults([](const OptimizerEntry& e) { return e.takes_lr; }, &OptimizerEntry::default_lr);
  app.add_option("--optimizer", c.optimizer,
                 optimizers_that([](const OptimizerEntry&) { return true; }) +
                     " (scg, lbfgs, cg, hf, trust-ncg: one epoch = one iteration over the whole set, for lbfgs and "
                     "cg one accepted strong-Wolfe line-search step; every optimizer checkpoints and resumes "
                     "bit-identically)")
      ->capture_default_str();
  auto* lr_opt = app.add_option("--lr", lr, lr_help);
  app.add_option("--momentum", c.momentum, "sgd: momentum")->capture_default_str();
  app.add_option("--lr-schedule", c.lr_schedule,
                 "sgd, adam: the learning rate's schedule (PyTorch's lr_scheduler rules; docs/optimizers.md): "
                 "[warmup:N[:START_FACTOR],]RULE[@epoch|@step], RULE one of constant, step:SIZE[:GAMMA], "
                 "multistep:M1+M2+...[:GAMMA], exp:GAMMA, cosine:T0[:T_MULT[:ETA_MIN]] (warm restarts), "
                 "onecycle:MAX_LR[:PCT_START] (over the whole run, per step), "
                 "plateau:PATIENCE[:FACTOR[:THRESHOLD[:COOLDOWN[:MIN_LR]]]] (on the validation loss of each epoch); "
                 "N, SIZE, M, T0 count epochs unless @step (e.g. warmup:2,cosine:10:2)");
  app.add_option("--accumulate", c.accumulate,
                 "sgd, adam: minibatches per update step, which uses the mean of their gradients (a step on a "
                 "K-times larger batch; an epoch's short last group is a step of its own)")
      ->check(whole_number())
      ->capture_default_str();
  app.add_option("--weight-decay", c.weight_decay,
                 "every optimizer: L2 penalty (L/2)|w|^2 on the weights (biases excluded) added to the loss, so "
                 "that scg, lbfgs and cg minimize it with its exact gradient and curvature; for sgd and adam its "
                 "gradient L*w is PyTorch's weight_decay on a parameter group of the weights (coupled, not AdamW's "
                 "decoupled decay). The logged train_loss is the data loss without the penalty")
      ->capture_default_str();
  std::optional<double> clip;
  auto* clip_opt = app.add_option("--clip-grad-norm", clip,
                                  "sgd, adam: scale each step's gradient (after --accumulate) to norm X when it is "
                                  "longer (PyTorch's clip_grad_norm_, norm type 2)");
  std::size_t patience = 0;
  auto* early_opt = app.add_option("--early-stopping", patience,
                                   "every optimizer: stop when the validation loss has not improved for PATIENCE "
                                   "epochs, then test and --save-model the best epoch's weights (the checkpoint "
                                   "keeps the last state)")
                        ->check(whole_number());
  app.add_option("--curvature", c.curvature,
                 "scg: exact (H*p by forward-over-reverse), gauss-newton (G*p, positive semi-definite) or "
                 "finite-difference (Moller's original difference of gradients); hf: exact or gauss-newton "
                 "(Martens' choice)")
      ->capture_default_str();
  double lambda_initial = 0;
  auto* lambda_opt = app.add_option(
      "--lambda-initial", lambda_initial,
      "the damping lambda of the first iteration: " +
          with_defaults([](const OptimizerEntry& e) { return e.takes_lambda_initial; },
                        &OptimizerEntry::default_lambda_initial) +
          "; later iterations adapt it (docs/optimizers.md)");
  app.add_option("--curvature-fraction", c.curvature_fraction,
                 "hf, trust-ncg: the share of the training set, in (0, 1], that each iteration's curvature products "
                 "run on (a new subsample drawn from --seed every iteration; Martens' 2010 choice is about 0.1); the "
                 "gradient and the loss stay the whole set's")
      ->capture_default_str();
  app.add_option("--batch-size", batch,
                 "minibatch size: examples per accumulated chunk (scg) or per step (sgd, adam); -1 = the whole set")
      ->capture_default_str();
  app.add_option("--epochs", c.epochs,
                 "epochs to reach (a resumed run counts the epochs already done); for sgd and adam an epoch is a "
                 "pass over the training minibatches")
      ->check(whole_number())
      ->capture_default_str();
  std::optional<double> max_passes;
  auto* max_passes_opt = app.add_option("--max-passes", max_passes,
                                        "also stop after the epoch that brings the passes over the training data to "
                                        "P (a budget for comparing optimizers whose epochs cost different passes)");
  app.add_option("--seed", c.seed, "seed of the split, the initial weights and the minibatch order")
      ->check(whole_number())
      ->capture_default_str();
  app.add_option("--dtype", c.dtype, "float32 or float64")->capture_default_str();
  app.add_option("--threads", c.threads,
                 "minibatches computed in parallel (0 = every core; at most 4 x the cores: " +
                     std::to_string(max_threads()) + ")")
      ->check(whole_number(std::numeric_limits<int>::max()))
      ->capture_default_str();
  app.add_option("--log", c.log,
                 "CSV log, one row per epoch: epoch, passes, seconds, train_loss, val_loss, val_accuracy "
                 "(+ for scg: success, lambda, lambda_bar, delta, mu, alpha, comparison, p_norm, p_mean, grad_norm, "
                 "grad_mean); an existing file is refused unless --overwrite (replace) or --resume (continue)");
  app.add_flag("--log-test", c.log_test,
               "also evaluate the test set after every epoch: the log gains test_loss and test_accuracy after "
               "val_accuracy (a forward pass over the test set per epoch; for curves of test accuracy, chosen by "
               "nothing)");
  app.add_option("--checkpoint", c.checkpoint,
                 "folder for checkpoint.curv (parameters + full optimizer state, written atomically) and model.npz "
                 "(the parameters, for NumPy)");
  app.add_option("--checkpoint-every", c.checkpoint_every,
                 "epochs between checkpoints (also at the end and on SIGINT/SIGTERM; 0 = only then)")
      ->check(whole_number())
      ->capture_default_str();
  app.add_flag("--resume", c.resume, "continue from the checkpoint in --checkpoint DIR (same settings required)");
  app.add_flag("--overwrite", c.overwrite,
               "let a fresh run replace an existing checkpoint in --checkpoint DIR, --log, --export-data and "
               "--save-model (without it an existing one is refused and left as it is)");
  app.add_option("--export-data", c.export_data,
                 "write FILE.npz with train_x, val_x, test_x (N,1,28,28; the --dtype; standardized as training sees "
                 "them) and train_y, val_y, test_y (int64 labels), then train (or stop after the test evaluation "
                 "with --epochs 0); on --resume an existing file is refused");
  app.add_option("--init", c.init,
                 "start from the parameters in FILE.npz (as --save-model writes: conv1.weight, ...) or FILE.npy "
                 "(the flat vector) instead of the seeded initialization");
  app.add_option("--save-model", c.save_model,
                 "write the final parameters to FILE.npz (one array per parameter) or FILE.npy (the flat vector); "
                 "--epochs 0 writes the initial ones; --resume replaces the file of the run it continues");
  app.add_flag("-q,--quiet", c.quiet, "no per-epoch lines (test_accuracy= is still printed)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (!comm.is_root()) return e.get_exit_code() == 0 ? 0 : 2;
    return app.exit(e) == 0 ? 0 : 2;  // --help, or a usage error like every other refused option
  }
  if (*lr_opt) c.lr = lr;
  if (*lambda_opt) c.lambda_initial = lambda_initial;
  if (*clip_opt) c.clip_grad_norm = clip;
  if (*early_opt) c.early_stopping = patience;
  if (*max_passes_opt) c.max_passes = max_passes;
  c.standardize = !no_standardize;
  try {
    check_model_options(app, c);  // and no empty values
    const std::string optimizer = "this run has --optimizer " + c.optimizer;
    const OptimizerEntry& entry = find_optimizer(c.optimizer);
    auto momentum = [](const OptimizerEntry& e) { return e.takes_momentum; };
    auto curvature = [](const OptimizerEntry& e) { return e.takes_curvature; };
    refuse_inapplicable(app, "--momentum", entry.takes_momentum,
                        "applies to --optimizer " + optimizers_that(momentum) + " only; " + optimizer);
    refuse_inapplicable(app, "--curvature", entry.takes_curvature,
                        "applies to --optimizer " + optimizers_that(curvature) + " only; " + optimizer);
    auto minibatch = [](const OptimizerEntry& e) { return !e.full_dataset; };
    for (const char* option : {"--lr-schedule", "--accumulate", "--clip-grad-norm"})
      refuse_inapplicable(app, option, minibatch(entry),
                          "applies to --optimizer " + optimizers_that(minibatch) + " only; " + optimizer);
    refuse_inapplicable(app, "--checkpoint-every", !c.checkpoint.empty(), "applies only with --checkpoint DIR");
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
  try {
    std::size_t used = 0;
    c.batch_size = std::stoll(batch, &used);
    if (used != batch.size()) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    return usage_error("--batch-size " + batch + ": expected an integer (-1 = the whole set)");
  }
  c.comm = comm;
  if (!comm.is_root()) {  // rank 0 prints; the others' lines would be the same
    c.quiet = true;
    c.progress_bar = false;
    c.out = std::fopen("/dev/null", "w");
  }
  try {
    validate(c);
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }

  install_stop_handlers();
  // An error during the run may be one rank's alone (a bad record in its
  // shard) while the others wait for it in a sum: it is reported (with the
  // rank, but for rank 0) and ends every rank.
  auto fail = [&comm](const std::exception& e, int code) {
    std::cerr << "curv-train" << (comm.is_root() ? std::string() : " (rank " + std::to_string(comm.rank()) + ")")
              << ": " << e.what() << "\n";
    if (comm.size() > 1) comm.abort(code);
    return code;
  };
  try {
    const TrainResult r = run_training(c);
    if (r.interrupted) return 128 + r.signal;
  } catch (const std::invalid_argument& e) {
    return fail(e, 2);
  } catch (const std::exception& e) {
    return fail(e, 1);
  }
  return 0;
}
