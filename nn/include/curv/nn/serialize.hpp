// Saving and loading a module's parameters in NumPy's formats.
//
//   .npz  one entry "<name>.npy" per named parameter, with its shape
//         (np.load(path)["conv1.weight"]); a ZIP archive stored uncompressed
//   .npy  the flat vector w itself, shape (num_parameters(),)
// Files are written atomically (write_file_atomic: a temporary file in the
// same directory, synced, renamed, the directory synced) and
// deterministically (fixed ZIP timestamps).
// Loading checks every parameter's name and shape against the module and
// names the first one that differs; data stored as float32 or float64 is
// converted to T (a round trip in the same T is bit-exact).
//
// Files are untrusted input. The reader takes no size from a file without
// checking it: ZIP offsets and sizes against the file's real size, a deflated
// entry's size against deflate's maximum ratio (1032:1) and against what it
// really inflates to; the npy header is at most 10,000 bytes (NumPy's
// max_header_size) and parsed strictly as the dict NumPy writes (each of
// 'descr', 'fortran_order', 'shape' once, dimensions non-negative integers);
// the data must be exactly shape × dtype bytes, computed without overflow.
// Memory is at most the file's size, the largest inflated entry and the arrays
// returned. Every refusal is std::invalid_argument naming the file, the entry
// ("file.npz:name.npy") and what was expected and found.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "curv/nn/module.hpp"

namespace curv::nn {

// One array of an .npz archive: a little-endian NumPy dtype ("<f4", "<f8",
// "<i8"), a C-order shape and its elements' raw bytes (not owned).
struct NpzArray {
  std::string name;  // the entry "<name>.npy"
  std::string descr;
  Shape shape;
  const void* data = nullptr;
  std::size_t bytes = 0;
};

// Writes `arrays` as an uncompressed .npz (what numpy.savez writes),
// atomically. Every array's dtype and byte count (against its shape) and the
// archive's 4 GiB limit (no ZIP64) are checked before anything is written
// (std::invalid_argument naming the file and the array).
void save_npz(const std::filesystem::path& path, const std::vector<NpzArray>& arrays);

// Writes w, laid out as `module` describes it, to `path` (.npz, or .npy for the flat vector).
template <class T>
void save_parameters(const std::filesystem::path& path, const Module<T>& module, const Tensor<T>& w);

// Reads a file written by save_parameters (or by NumPy with the same names
// and shapes) into a flat vector for `module`.
template <class T>
Tensor<T> load_parameters(const std::filesystem::path& path, const Module<T>& module);

// One array as a .npy file, written atomically; and back.
template <class T>
void save_npy(const std::filesystem::path& path, const Tensor<T>& array);
template <class T>
Tensor<T> load_npy(const std::filesystem::path& path);

// Every array of an .npz archive by entry name (".npy" stripped), converted to T.
template <class T>
std::map<std::string, Tensor<T>> load_npz(const std::filesystem::path& path);

#define CURV_NN_SERIALIZE_EXTERN(T)                                                                      \
  extern template void save_parameters(const std::filesystem::path&, const Module<T>&, const Tensor<T>&); \
  extern template Tensor<T> load_parameters(const std::filesystem::path&, const Module<T>&);             \
  extern template void save_npy(const std::filesystem::path&, const Tensor<T>&);                         \
  extern template Tensor<T> load_npy(const std::filesystem::path&);                                      \
  extern template std::map<std::string, Tensor<T>> load_npz(const std::filesystem::path&);
CURV_NN_SERIALIZE_EXTERN(float)
CURV_NN_SERIALIZE_EXTERN(double)
#undef CURV_NN_SERIALIZE_EXTERN

}  // namespace curv::nn
