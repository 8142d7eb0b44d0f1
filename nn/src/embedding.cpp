// curv::nn::Embedding.
#include "curv/nn/layers/embedding.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace curv::nn {

namespace {

// "[1, 2]": the row-major multi-index of flat element k of `shape`.
std::string position(std::size_t k, const Shape& shape) {
  std::vector<std::size_t> at(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    at[d] = k % shape[d];
    k /= shape[d];
  }
  std::string out = "[";
  for (std::size_t d = 0; d < at.size(); ++d) out += (d ? ", " : "") + std::to_string(at[d]);
  return out + "]";
}

}  // namespace

template <class T>
Embedding<T>::Embedding(EmbeddingOptions options) : options_(options) {
  if (options.num_embeddings == 0 || options.embedding_dim == 0)
    throw std::invalid_argument("curv::nn::Embedding: num_embeddings = " + std::to_string(options.num_embeddings) +
                                " and embedding_dim = " + std::to_string(options.embedding_dim) +
                                ", expected both at least 1");
}

template <class T>
std::size_t Embedding<T>::num_parameters() const {
  return options_.num_embeddings * options_.embedding_dim;
}

template <class T>
std::string Embedding<T>::describe() const {
  return "Embedding(" + std::to_string(options_.num_embeddings) + ", " + std::to_string(options_.embedding_dim) +
         ")";
}

template <class T>
std::vector<ParameterInfo> Embedding<T>::parameters() const {
  const std::size_t rows = options_.num_embeddings, dim = options_.embedding_dim;
  return {{"weight", {rows, dim}, 0, dim, rows, ParameterRole::weight, options_.init}};
}

template <class T>
ad::Var<T> Embedding<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  this->check_parameter_vector("forward", w.size());
  const std::size_t rows = options_.num_embeddings, dim = options_.embedding_dim;
  const Shape s(input.shape().begin(), input.shape().end());
  if (s.empty())
    throw std::invalid_argument("curv::nn::" + describe() +
                                ": input has shape (), expected indices with at least one (batch) axis");
  // index[k, j] = input[k] for every j: gather along axis 0 reads whole rows.
  ad::Index index = ad::Index::from_shape({input.size(), dim});
  const T* x = input.data();
  for (std::size_t k = 0; k < input.size(); ++k) {
    const T i = x[k];
    if (!(i >= T(0) && i < static_cast<T>(rows)) || i != std::floor(i)) {
      std::ostringstream value;
      value << i;
      throw std::invalid_argument("curv::nn::" + describe() + ": input" + position(k, s) + " = " + value.str() +
                                  ", expected an integer index in [0, " + std::to_string(rows) +
                                  "): a row of the weight");
    }
    std::fill_n(index.data() + k * dim, dim, static_cast<std::size_t>(i));
  }
  Shape out = s;
  out.push_back(dim);
  return ad::reshape(ad::gather(ad::view(w, 0, {rows, dim}), 0, index), out);
}

template class Embedding<float>;
template class Embedding<double>;

}  // namespace curv::nn
