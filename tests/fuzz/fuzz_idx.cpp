// libFuzzer target: curv::datasets' IDX reader, plain and gzip (see
// fuzz_input.hpp for how an input becomes a file). Refusal is
// std::runtime_error (IdxError for a malformed file); anything else escaping,
// a crash or a sanitizer report is a finding.
#include <stdexcept>

#include "curv/datasets/idx.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const curv::fuzz::IdxInput in = curv::fuzz::idx_input(data, size);
  try {
    if (in.dimensions == 3)
      curv::datasets::read_idx_images<float>(in.file);
    else
      curv::datasets::read_idx_labels<double>(in.file);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
