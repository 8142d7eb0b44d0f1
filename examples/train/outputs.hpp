// curv-train's files, checked before anything is written (docs/reliability.md,
// "Start-up"): output paths, outputs of another run, and on --resume the
// checkpoint's settings and the log.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "curv_examples/csv.hpp"
#include "train/train.hpp"

namespace curv::examples {

// Every output path can be written, and no two outputs are one file. Reads only.
void check_output_paths(const TrainConfig& c);

// An existing --log, --export-data or --save-model is another run's result:
// replaced only with --overwrite. --resume continues its own run: it appends
// to the log and replaces --save-model (the run's final parameters), but an
// existing --export-data is refused (the first run exported the data).
void refuse_existing_outputs(const TrainConfig& c);

template <class T>
struct Data;

// What must match between a checkpoint and the run that resumes it: the data
// folder (as a canonical path), the contents of all three splits (a hash
// each), the model, the optimizer and its options, batch size, seed, dtype.
template <class T>
std::map<std::string, std::string> settings_of(const TrainConfig& c, const Data<T>& d, std::size_t dim);

// On --resume, the checkpoint's settings must be this run's; the first that
// differs is named by its option (CheckpointError). The optimizer first, the
// data hashes last (so that a hash difference can only be the files' contents).
void check_settings(const std::filesystem::path& file, const std::map<std::string, std::string>& saved,
                    const std::map<std::string, std::string>& now);

// What a checkpoint records of the log it was written next to: the log's
// fingerprint at that moment, or "-" for a run without --log (an empty path).
std::string log_record(const std::filesystem::path& log);

// On --resume, the log must be this run's: its first bytes the ones the
// checkpoint recorded, its header `columns`, every row starting with an
// epoch number. Checked before the log is trimmed, so a refused log keeps every byte.
void check_log_for_resume(const std::filesystem::path& log, const std::vector<std::string>& columns,
                          const std::map<std::string, std::string>& saved);

// Keeps the log's header and its rows of epochs ≤ `epoch` (rows written after
// the checkpoint belong to a trajectory that the resumed run redoes).
void trim_log(const std::filesystem::path& log, std::size_t epoch);

}  // namespace curv::examples
