// libFuzzer target: curv-train's checkpoint reader (see fuzz_input.hpp for
// how an input becomes a file). Refusal is CheckpointError; anything else
// escaping, a crash or a sanitizer report is a finding.
#include "fuzz_input.hpp"
#include "train/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::filesystem::path file = curv::fuzz::checkpoint_input(data, size);
  try {
    const curv::examples::Checkpoint c = curv::examples::Checkpoint::read(file);
    if (c.has_tensor("w")) (void)c.tensor<double>("w");
  } catch (const curv::examples::CheckpointError&) {
  }
  return 0;
}
