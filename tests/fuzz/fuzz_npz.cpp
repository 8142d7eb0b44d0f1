// libFuzzer target: curv::nn's npz and npy readers (see fuzz_input.hpp for
// how an input becomes a file). Refusal is std::invalid_argument; anything
// else escaping, a crash or a sanitizer report is a finding.
#include <stdexcept>

#include "curv/nn/serialize.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const curv::fuzz::NpzInput in = curv::fuzz::npz_input(data, size);
  try {
    if (in.npy)
      curv::nn::load_npy<float>(in.file);
    else
      curv::nn::load_npz<double>(in.file);
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
