// curv-train's output files, checked before anything is written: paths,
// existing outputs, a resumed run's settings and log.
#include "train/outputs.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include <curv/nn/atomic_file.hpp>

#include "train/checkpoint.hpp"
#include "train/data.hpp"
#include "train/optimizers.hpp"
#include "train/messages.hpp"

namespace curv::examples {

namespace fs = std::filesystem;

namespace {

// The nearest path that exists on the way up from `p` (p itself included).
fs::path existing_ancestor(fs::path p) {
  p = fs::absolute(p);
  while (!fs::exists(p) && p.has_parent_path() && p != p.parent_path()) p = p.parent_path();
  return p;
}

// A folder in which `option`'s file or folder can be created: the nearest
// existing folder on its way up must be a folder this process may write into.
void check_can_create_in(const char* option, const std::string& value, const fs::path& parent) {
  const fs::path dir = existing_ancestor(parent);
  if (!fs::is_directory(dir)) bad_option(option, value, dir.string() + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    bad_option(option, value, "cannot create files in " + dir.string() + ": " + std::strerror(errno));
}

void check_output_file(const char* option, const std::string& value) {
  if (value.empty()) return;
  const fs::path p = fs::absolute(value);
  std::error_code ec;
  const fs::file_status st = fs::status(p, ec);
  if (fs::is_directory(st)) bad_option(option, value, "is a directory; expected a file name");
  if (fs::exists(st) && !fs::is_regular_file(st)) bad_option(option, value, "is not a regular file");
  if (fs::exists(st) && ::access(p.c_str(), W_OK) != 0)
    bad_option(option, value, std::string("cannot be written: ") + std::strerror(errno));
  check_can_create_in(option, value, p.parent_path());
}

// The first `bytes` bytes of a file (all of it by default) as "<bytes> <FNV-1a 64>".
std::string fingerprint(const fs::path& file, std::uintmax_t bytes = std::numeric_limits<std::uintmax_t>::max()) {
  std::ifstream in(file, std::ios::binary);
  std::uint64_t h = 1469598103934665603ull;
  std::uintmax_t n = 0;
  char buf[1 << 14];
  while (n < bytes) {
    in.read(buf, static_cast<std::streamsize>(std::min<std::uintmax_t>(sizeof buf, bytes - n)));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    for (std::streamsize i = 0; i < got; ++i) h = (h ^ static_cast<unsigned char>(buf[i])) * 1099511628211ull;
    n += static_cast<std::uintmax_t>(got);
  }
  return std::to_string(n) + " " + std::to_string(h);
}

// The data hashes depend on the folder, the split sizes, --seed, --dtype and
// --no-standardize as well as on the files: they are compared after all of
// those, so that a difference left there is the files' contents.
bool is_data_hash(const std::string& setting) { return setting.ends_with("data_hash"); }

const char* option_of(const std::string& setting) {
  static const std::map<std::string, const char*> names = {
      {"dataset", "--dataset"},
      {"data_hash", "the training split: the contents of the training files changed"},
      {"val_data_hash", "the validation split: the contents of the training files changed"},
      {"test_data_hash", "the test split: the contents of the test files changed"},
      {"train_size", "--train-size"}, {"val_size", "--val-size"}, {"test_size", "--test-size"}, {"model", "--model"},
      {"kernel_size", "--kernel-size"}, {"hidden", "--hidden"}, {"dropout", "--dropout"}, {"num_parameters", "--model"},
      {"optimizer", "--optimizer"}, {"lr", "--lr"}, {"momentum", "--momentum"}, {"curvature", "--curvature"}, {"lambda_initial", "--lambda-initial"}, {"curvature_fraction", "--curvature-fraction"},
      {"lr_schedule", "--lr-schedule"}, {"accumulate", "--accumulate"}, {"weight_decay", "--weight-decay"}, {"clip_grad_norm", "--clip-grad-norm"}, {"early_stopping", "--early-stopping"}, {"batch_size", "--batch-size"}, {"seed", "--seed"}, {"dtype", "--dtype"}, {"standardize", "--no-standardize"},
      {"ranks", "mpirun -np, the number of processes"}};
  const auto it = names.find(setting);
  return it == names.end() ? "a setting" : it->second;
}

}  // namespace

// Every output path can be written, and no two outputs are one file. Reads only.
void check_output_paths(const TrainConfig& c) {
  check_output_file("--log", c.log);
  check_output_file("--export-data", c.export_data);
  check_output_file("--save-model", c.save_model);
  if (!c.checkpoint.empty()) {
    const fs::path p = fs::absolute(c.checkpoint);
    if (fs::exists(p) && !fs::is_directory(p)) bad_option("--checkpoint", c.checkpoint, "is not a directory");
    check_can_create_in("--checkpoint", c.checkpoint, p);
  }
  std::vector<std::pair<std::string, fs::path>> outputs;
  auto add = [&](const std::string& option, const std::string& path) {
    if (!path.empty()) outputs.emplace_back(option, fs::weakly_canonical(fs::absolute(path)));
  };
  add("--log", c.log);
  add("--export-data", c.export_data);
  add("--save-model", c.save_model);
  if (!c.checkpoint.empty()) {
    add("--checkpoint (its checkpoint.curv)", (fs::path(c.checkpoint) / "checkpoint.curv").string());
    add("--checkpoint (its model.npz)", (fs::path(c.checkpoint) / "model.npz").string());
  }
  for (std::size_t i = 0; i < outputs.size(); ++i)
    for (std::size_t j = i + 1; j < outputs.size(); ++j)
      if (outputs[i].second == outputs[j].second)
        throw std::invalid_argument(outputs[i].first + " and " + outputs[j].first + " name the same file " +
                                    outputs[i].second.string() + "; expected different files");
}

// An existing --log, --export-data or --save-model is another run's result:
// replaced only with --overwrite. --resume continues its own run: it appends
// to the log and replaces --save-model (the run's final parameters), but an
// existing --export-data is refused (the first run exported the data).
void refuse_existing_outputs(const TrainConfig& c) {
  if (c.overwrite) return;
  auto refuse = [](const char* option, const std::string& path, const std::string& how) {
    if (!path.empty() && fs::exists(path)) bad_option(option, path, "already exists; " + how + " (it was left as it is)");
  };
  if (!c.resume) {
    refuse("--log", c.log, "pass --overwrite to replace it, or --resume to continue its run");
    refuse("--save-model", c.save_model, "pass --overwrite to replace it");
    refuse("--export-data", c.export_data, "pass --overwrite to replace it");
  } else {
    refuse("--export-data", c.export_data, "drop --export-data when resuming (the run's first part wrote it)");
  }
}

// What a checkpoint records of the log it was written next to: the log's
// fingerprint at that moment, or "-" for a run without --log. A resume can
// then tell its own log (whose first bytes are exactly those) from another run's.
std::string log_record(const fs::path& log) { return log.empty() ? "-" : fingerprint(log); }

// On --resume, the log must be this run's: its first bytes the ones the
// checkpoint recorded (rows written after the checkpoint are trimmed), its
// header this optimizer's columns, every row starting with an epoch number.
// Checked before the log is trimmed, so that a refused log keeps every byte.
void check_log_for_resume(const fs::path& log, const std::vector<std::string>& columns,
                          const std::map<std::string, std::string>& saved) {
  if (!fs::exists(log) || fs::file_size(log) == 0) return;  // a new log for the rest of the run
  const std::string left = " (it was left as it is)";
  std::string first;
  {
    std::ifstream in(log);
    std::getline(in, first);
  }
  std::string expected;
  for (const auto& col : columns) expected += (expected.empty() ? "" : ",") + col;
  if (first != expected)
    bad_option("--log", log.string(), "its header is '" + first + "', this run writes '" + expected +
                                          "': it is not this run's log" + left);
  const auto it = saved.find("log");
  const std::string recorded = it == saved.end() ? "-" : it->second;
  if (recorded == "-")
    bad_option("--log", log.string(), "the checkpoint's run wrote no log, so this one is another run's log" + left +
                                          "; give a new file to --log");
  const std::uintmax_t bytes = std::stoull(recorded);
  if (fs::file_size(log) < bytes || fingerprint(log, bytes) != recorded)
    bad_option("--log", log.string(), "its first " + std::to_string(bytes) +
                                          " bytes are not the log the checkpoint's run wrote: it is not this run's log" +
                                          left + "; give a new file to --log");
  const CsvContent content = read_csv(log);
  for (std::size_t i = 0; i < content.rows.size(); ++i) {
    const std::string cell = content.rows[i].empty() ? "" : content.rows[i][0];
    if (cell.empty() || cell.find_first_not_of("0123456789") != std::string::npos)
      bad_option("--log", log.string(), "row " + std::to_string(i + 1) + " starts with '" + cell +
                                            "', expected an epoch number" + left);
  }
}

// On --resume, the checkpoint's settings must be this run's; the first that
// differs is named by its option (CheckpointError).
void check_settings(const fs::path& file, const std::map<std::string, std::string>& saved,
                    const std::map<std::string, std::string>& now) {
  // The optimizer first: its state is what the checkpoint holds, and a
  // checkpoint of another optimizer also differs in its optimizer's settings.
  // The data hashes last (is_data_hash).
  std::vector<std::pair<std::string, std::string>> order;
  if (const auto it = now.find("optimizer"); it != now.end()) order.push_back(*it);
  for (const auto& kv : now)
    if (kv.first != "optimizer" && !is_data_hash(kv.first)) order.push_back(kv);
  for (const auto& kv : now)
    if (is_data_hash(kv.first)) order.push_back(kv);
  // Settings added since the first checkpoints, and the value those implied.
  std::map<std::string, std::string> implied = {
      {"lr_schedule", "constant"}, {"accumulate", "1"}, {"weight_decay", "0"}, {"clip_grad_norm", "-"},
      {"early_stopping", "-"}, {"curvature_fraction", "1"}, {"dropout", "0"}, {"ranks", "1"}};
  // Before --lambda-initial, a run's first λ was its optimizer's default.
  if (const auto it = now.find("optimizer"); it != now.end()) {
    const OptimizerEntry& o = find_optimizer(it->second);
    implied["lambda_initial"] = o.takes_lambda_initial ? num(o.default_lambda_initial) : "-";
  }
  for (const auto& [k, v] : order) {
    const auto it = saved.find(k);
    if (it == saved.end() && implied.count(k) && implied.at(k) == v) continue;
    if (it == saved.end())
      throw CheckpointError("checkpoint " + file.string() + " does not record '" + k +
                            "' (an older curv-train wrote it); refusing to resume");
    if (it->second != v)
      throw CheckpointError("checkpoint " + file.string() + " was written with " + k + " = " + it->second +
                            ", this run has " + k + " = " + v + " (" + option_of(k) +
                            "); resume with the same settings, or start afresh with --overwrite");
  }
}

// Keeps the log's header and its rows of epochs ≤ `epoch` (rows written after
// the checkpoint belong to a trajectory that the resumed run redoes).
void trim_log(const fs::path& log, std::size_t epoch) {
  if (!fs::exists(log)) return;
  const CsvContent content = read_csv(log);
  std::vector<std::string> kept;
  for (const auto& row : content.rows)
    if (!row.empty() && std::stoull(row[0]) <= epoch) {
      std::string line;
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (i) line += ',';
        line += row[i];
      }
      kept.push_back(line);
    }
  nn::write_file_atomic(log, [&](std::ostream& out) {
    for (std::size_t i = 0; i < content.header.size(); ++i) out << (i ? "," : "") << content.header[i];
    out << '\n';
    for (const auto& line : kept) out << line << '\n';
  });
}


// What must match between a checkpoint and the run that resumes it. The data
// folder is compared as a canonical path (data/x and ./data/x/ are one
// folder); the contents of all three splits by a hash each.
template <class T>
std::map<std::string, std::string> settings_of(const TrainConfig& c, const Data<T>& d, std::size_t dim) {
  std::map<std::string, std::string> s;
  s["dataset"] = fs::weakly_canonical(fs::absolute(d.dir)).string();
  s["data_hash"] = std::to_string(hash_dataset(d.train, c.comm));
  s["val_data_hash"] = std::to_string(hash_dataset(d.val, c.comm));
  s["test_data_hash"] = std::to_string(hash_dataset(d.test, c.comm));
  s["train_size"] = std::to_string(d.whole.train);
  s["val_size"] = std::to_string(d.whole.val);
  s["test_size"] = std::to_string(d.whole.test);
  // mpirun -np K: the shards, and so the order of the sums, are K's.
  s["ranks"] = std::to_string(c.comm.size());
  s["standardize"] = c.standardize ? "yes" : "no";
  s["model"] = c.model;
  s["kernel_size"] = c.model == "article-cnn" ? std::to_string(c.kernel_size) : "-";
  s["hidden"] = c.model == "mlp" ? std::to_string(c.hidden) : "-";
  s["num_parameters"] = std::to_string(dim);
  s["dropout"] = num(c.dropout);  // the masks are part of the function minimized
  s["optimizer"] = c.optimizer;
  const OptimizerEntry& o = find_optimizer(c.optimizer);
  s["lr"] = o.takes_lr ? num(c.lr.value_or(o.default_lr)) : "-";
  s["momentum"] = o.takes_momentum ? num(c.momentum) : "-";
  s["curvature"] = o.takes_curvature ? c.curvature : "-";
  s["lambda_initial"] = o.takes_lambda_initial ? num(c.lambda_initial.value_or(o.default_lambda_initial)) : "-";
  // The subsamples are drawn from --seed: the fraction is part of the trajectory
  // (1, the whole set, for the optimizers that take no --curvature-fraction).
  s["curvature_fraction"] = num(c.curvature_fraction);
  // A one-cycle schedule spans the run: its length is part of it.
  s["lr_schedule"] = c.lr_schedule.empty() ? "constant"
                     : c.lr_schedule.find("onecycle") == std::string::npos
                         ? c.lr_schedule
                         : c.lr_schedule + " over " + std::to_string(c.epochs) + " epochs";
  s["accumulate"] = std::to_string(c.accumulate);
  s["weight_decay"] = num(c.weight_decay);  // the L2 penalty is part of the function minimized
  s["clip_grad_norm"] = c.clip_grad_norm ? num(*c.clip_grad_norm) : "-";
  s["early_stopping"] = c.early_stopping ? std::to_string(*c.early_stopping) : "-";
  s["batch_size"] = std::to_string(c.batch_size);
  s["seed"] = std::to_string(c.seed);
  s["dtype"] = c.dtype;
  return s;
}

template std::map<std::string, std::string> settings_of(const TrainConfig&, const Data<float>&, std::size_t);
template std::map<std::string, std::string> settings_of(const TrainConfig&, const Data<double>&, std::size_t);

}  // namespace curv::examples
