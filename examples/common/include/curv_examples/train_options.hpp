// The data and model options that batch_sweep and compare share with
// curv-train, spelled the same way, and the checks every program applies to
// them: whole numbers are digits within range (CLI11 alone turns "-1" into
// 2⁶⁴ − 1 for an unsigned option), names and paths are not empty, and an
// option the chosen model does not use is an error.
#pragma once

#include <charconv>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <system_error>

#include <CLI/CLI.hpp>

#include "train/train.hpp"

namespace curv::examples {

// A whole number from 0 to `max`, in decimal digits.
inline CLI::Validator whole_number(std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  return CLI::Validator(
      [max](std::string& s) -> std::string {
        const std::string expected = "expected a whole number from 0 to " + std::to_string(max);
        if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return "'" + s + "': " + expected;
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || end != s.data() + s.size() || v > max) return "'" + s + "': " + expected;
        return "";
      },
      "", "WHOLE_NUMBER");
}

// No option given an empty value: for a name or a path "" would silently
// mean "none" (--checkpoint "" used to disable checkpoints). Throws
// std::invalid_argument naming the option.
inline void refuse_empty_values(const CLI::App& app) {
  for (const CLI::Option* o : app.get_options())
    if (o->get_type_size() != 0)  // flags take no value
      for (const std::string& value : o->results())
        if (value.empty()) throw std::invalid_argument(o->get_name() + ": expected a non-empty value");
}

inline bool given(const CLI::App& app, const char* option) {
  const CLI::Option* o = app.get_option_no_throw(option);
  return o != nullptr && o->count() > 0;
}

// An option the run would ignore is an error, not a warning: the run would be
// labelled with a setting it never used, and a warning scrolls away while a
// refusal costs one corrected command line. Throws std::invalid_argument.
inline void refuse_inapplicable(const CLI::App& app, const char* option, bool applies, const std::string& why) {
  if (given(app, option) && !applies) throw std::invalid_argument(std::string(option) + ": " + why);
}

// No empty values, and --hidden and --kernel-size only for their model.
inline void check_model_options(const CLI::App& app, const TrainConfig& c) {
  refuse_empty_values(app);
  refuse_inapplicable(app, "--hidden", c.model == "mlp", "applies to --model mlp only; this run has --model " + c.model);
  refuse_inapplicable(app, "--kernel-size", c.model == "article-cnn",
                      "applies to --model article-cnn only; this run has --model " + c.model);
}

inline void add_data_options(CLI::App& app, TrainConfig& c) {
  app.add_option("--dataset", c.dataset, "mnist (full), mnist-small, fashion-mnist or a folder of MNIST-format IDX files")->capture_default_str();
  app.add_option("--mnist-dir", c.mnist_dir, "where --dataset mnist looks (default: $CURV_MNIST_DIR, else data/mnist-full)");
  app.add_option("--train-size", c.train_size, "training examples (default: all but the validation set)")
      ->check(whole_number());
  app.add_option("--val-size", c.val_size, "validation examples (default: 1/6 of the training file, at most 10000)")
      ->check(whole_number());
  app.add_option("--test-size", c.test_size, "test examples (default: all)")->check(whole_number());
  app.add_option("--model", c.model, "article-cnn or mlp")->capture_default_str();
  app.add_option("--hidden", c.hidden, "mlp: hidden units")->check(whole_number())->capture_default_str();
  app.add_option("--seed", c.seed, "seed of the split, the initial weights and the minibatch order")
      ->check(whole_number())
      ->capture_default_str();
  app.add_option("--dtype", c.dtype, "float32 or float64")->capture_default_str();
  app.add_option("--threads", c.threads, "minibatches computed in parallel (0 = every core)")
      ->check(whole_number(std::numeric_limits<int>::max()))
      ->capture_default_str();
}

}  // namespace curv::examples
