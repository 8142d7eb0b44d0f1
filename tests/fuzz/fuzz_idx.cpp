// libFuzzer target: curv::datasets' IDX reader, plain and gzip (see
// fuzz_input.hpp for how an input becomes a file). Refusal is
// std::runtime_error (IdxError for a malformed file); anything else escaping,
// a crash or a sanitizer report is a finding. So is a shard that disagrees
// with the whole: read_idx_rows must return the rows read_idx returns, and
// refuse what read_idx refuses.
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <vector>

#include "curv/datasets/idx.hpp"
#include "fuzz_input.hpp"

namespace {

// Three row sets drawn from the input's last byte: the last record, every
// k-th from an offset, and every record. Each read inflates a gzip input
// once, so an input costs at most five passes over its (bounded) data.
std::vector<std::vector<std::size_t>> row_sets(std::size_t count, unsigned char seed) {
  std::vector<std::vector<std::size_t>> sets(3);
  if (count > 0) sets[0].push_back(count - 1);
  for (std::size_t r = seed % 3; r < count; r += 1 + seed / 3 % 5) sets[1].push_back(r);
  for (std::size_t r = 0; r < count; ++r) sets[2].push_back(r);
  return sets;
}

void check_shards(const curv::fuzz::IdxInput& in, unsigned char seed) {
  std::optional<curv::datasets::IdxArray> all;
  try {
    all = curv::datasets::read_idx(in.file, in.dimensions);
  } catch (const std::runtime_error&) {
  }
  std::size_t count = 0;
  try {
    count = curv::datasets::read_idx_dims(in.file, in.dimensions)[0];
  } catch (const std::runtime_error&) {
    if (all) std::abort();  // the header alone refused what the whole read accepts
    return;
  }
  for (const auto& rows : row_sets(count, seed)) {
    try {
      const curv::datasets::IdxArray a = curv::datasets::read_idx_rows(in.file, in.dimensions, rows);
      if (!all || a.dims[0] != rows.size()) std::abort();
      const std::size_t record = all->dims[0] ? all->data.size() / all->dims[0] : 0;
      for (std::size_t i = 0; i < rows.size(); ++i)
        for (std::size_t k = 0; k < record; ++k)
          if (a.data[i * record + k] != all->data[rows[i] * record + k]) std::abort();
    } catch (const std::runtime_error&) {
      if (all) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const curv::fuzz::IdxInput in = curv::fuzz::idx_input(data, size);
  try {
    if (in.dimensions == 3)
      curv::datasets::read_idx_images<float>(in.file);
    else
      curv::datasets::read_idx_labels<double>(in.file);
  } catch (const std::runtime_error&) {
  }
  check_shards(in, size ? data[size - 1] : 0);
  return 0;
}
