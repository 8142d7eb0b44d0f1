// Option validation shared by the optimizers' constructors: each throws
// std::invalid_argument naming the options struct, the option and its value.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace curv::optim::detail {

// value > 0 and finite.
void check_positive(std::string_view options, std::string_view name, double value);
// value ≥ 0 and finite.
void check_non_negative(std::string_view options, std::string_view name, double value);
// lo ≤ value < hi (or ≤ hi when hi_inclusive).
void check_in_range(std::string_view options, std::string_view name, double value, double lo, double hi,
                    bool hi_inclusive);
// value ≥ 1.
void check_at_least_one(std::string_view options, std::string_view name, std::size_t value);
// Throws "curv::optim::<where>: <found>, expected <expected>".
[[noreturn]] void refuse(std::string_view where, std::string_view found, std::string_view expected);
// Throws "<options>: <message>".
[[noreturn]] void fail(std::string_view options, std::string_view message);
// A value printed the way a user typed it ("1e-06", "nan", "-3").
std::string format(double value);

}  // namespace curv::optim::detail
