// curv::nn::Embedding: a lookup table of num_embeddings rows of
// embedding_dim learnable numbers; an index i reads row i (PyTorch's layer,
// parameter "weight" of shape (num_embeddings, embedding_dim)).
//
// The input holds indices stored as T (curv's tensors have one element type):
// any shape, batch first — (batch) or (batch, sequence) — each element an
// integer in [0, num_embeddings). The output has the input's shape with
// embedding_dim appended. Each example reads only its own indices, so the
// layer is per-example and batch-size invariant.
//
// The lookup is ad::gather of the weight's rows: linear in the weight, its
// rules are gather's (a row read twice receives both adjoints). The output
// does not depend differentiably on the indices: they reach the tape only as
// a constant index, and their derivative is zero.
#pragma once

#include <string>

#include "curv/nn/module.hpp"

namespace curv::nn {

struct EmbeddingOptions {
  // Rows of the table: indices run over [0, num_embeddings). At least 1.
  std::size_t num_embeddings = 0;
  // Length of each row. At least 1.
  std::size_t embedding_dim = 0;
  // How the weight is drawn; PyTorch draws it from N(0, 1).
  Init init = Init::normal;
};

template <class T>
class Embedding final : public Module<T> {
 public:
  explicit Embedding(EmbeddingOptions options);
  Embedding(std::size_t num_embeddings, std::size_t embedding_dim)
      : Embedding(EmbeddingOptions{num_embeddings, embedding_dim, Init::normal}) {}

  std::size_t num_parameters() const override;
  // Throws naming the element, its position and its value if an index is not
  // an integer in [0, num_embeddings).
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override;
  std::string describe() const override;
  // "weight" (num_embeddings, embedding_dim); fan_in = embedding_dim and
  // fan_out = num_embeddings, as PyTorch computes them for a 2-D weight.
  std::vector<ParameterInfo> parameters() const override;

  const EmbeddingOptions& options() const { return options_; }

 private:
  EmbeddingOptions options_;
};

extern template class Embedding<float>;
extern template class Embedding<double>;

}  // namespace curv::nn
