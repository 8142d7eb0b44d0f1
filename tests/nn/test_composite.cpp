// Containers written by users only through curv's public API (the example of
// docs/adding-a-layer.md, "Composing modules"): a residual block y = x + f(x)
// and a gated pair y = gate(x) ⊙ value(x), both Composites, nested inside a
// Sequential; their derivatives, parameter names and offsets.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace my {

namespace ad = curv::ad;
namespace nn = curv::nn;

// y = x + f(x): f's parameters are the block's, named "f.…".
template <class T>
class Residual final : public nn::Composite<T> {
 public:
  explicit Residual(std::shared_ptr<const nn::Module<T>> f) : nn::Composite<T>("Residual") {
    this->add("f", std::move(f));
  }

 private:
  ad::Var<T> compose(const nn::Children<T>& children, const ad::Var<T>& x) const override {
    return x + children("f", x);
  }
};

// y = gate(x) ⊙ value(x): two children whose parameters meet in every
// second derivative, so a wrong offset shows in H·v.
template <class T>
class Gated final : public nn::Composite<T> {
 public:
  Gated(std::size_t in, std::size_t out) : nn::Composite<T>("Gated") {
    this->template emplace<nn::Linear<T>>("gate", nn::LinearOptions{in, out});
    this->template emplace<nn::Linear<T>>("value", nn::LinearOptions{in, out});
  }

 private:
  ad::Var<T> compose(const nn::Children<T>& children, const ad::Var<T>& x) const override {
    return ad::tanh(children("gate", x)) * children("value", x);
  }
};

// y = f(f(x)): one child called twice, so its parameters get both calls' gradients.
template <class T>
class Twice final : public nn::Composite<T> {
 public:
  explicit Twice(std::shared_ptr<const nn::Module<T>> f) : nn::Composite<T>("Twice") { this->add("f", std::move(f)); }

 private:
  ad::Var<T> compose(const nn::Children<T>& children, const ad::Var<T>& x) const override {
    return children(0, children(0, x));
  }
};

template <class T>
std::shared_ptr<const nn::Sequential<T>> small_mlp() {
  auto f = std::make_shared<nn::Sequential<T>>();
  f->template emplace<nn::Linear<T>>("fc1", nn::LinearOptions{3, 3});
  f->template emplace<nn::Tanh<T>>("act");
  f->template emplace<nn::Linear<T>>("fc2", nn::LinearOptions{3, 3});
  return f;
}

// Linear(4 -> 3), a residual block around small_mlp(), then a Gated(3 -> 2).
template <class T>
nn::Sequential<T> residual_net() {
  nn::Sequential<T> net;
  net.template emplace<nn::Linear<T>>("fc_in", nn::LinearOptions{4, 3});
  net.template emplace<Residual<T>>("block", small_mlp<T>());
  net.template emplace<Gated<T>>("head", 3, 2);
  return net;
}

}  // namespace my

namespace {

using namespace curv;
using namespace curv::nn;
using namespace curv::nn::testing;

std::vector<std::pair<std::string, std::size_t>> names_and_offsets(const Module<double>& m) {
  std::vector<std::pair<std::string, std::size_t>> out;
  for (const ParameterInfo& p : m.parameters()) out.emplace_back(p.name, p.offset);
  return out;
}

TEST(Composite, ResidualBlockDerivativesMatchFiniteDifferences) {
  const my::Residual<double> block(my::small_mlp<double>());
  expect_module_derivatives(block, {block.initialize(1), randn({5, 3}, 2)});
  expect_float32_matches_float64(my::Residual<float>(my::small_mlp<float>()), block,
                                 {block.initialize(1), randn({5, 3}, 2)});
}

TEST(Composite, ResidualBlockIsTheInputPlusItsChild) {
  const auto f = my::small_mlp<double>();
  const my::Residual<double> block(f);
  const Tensor<double> w = block.initialize(3), x = randn({4, 3}, 4);
  ad::Tape<double> tape;
  const ad::Var<double> wv = tape.constant(w), xv = tape.constant(x);
  const Tensor<double> expected = x + f->forward(wv, xv).value();
  EXPECT_EQ(block.forward(wv, xv).value(), expected);
  // The block lays out its one child's parameters exactly as the child does.
  EXPECT_EQ(block.num_parameters(), f->num_parameters());
  EXPECT_EQ(w, f->initialize(3));
  EXPECT_EQ(block.describe(), "Residual(f)");
}

TEST(Composite, UserContainerDerivativesMatchFiniteDifferences) {
  const my::Gated<double> gated(3, 2);
  expect_module_derivatives(gated, {gated.initialize(5), randn({4, 3}, 6)});
  expect_float32_matches_float64(my::Gated<float>(3, 2), gated, {gated.initialize(5), randn({4, 3}, 6)});
}

TEST(Composite, AChildCalledTwiceSharesItsParameters) {
  const my::Twice<double> twice(my::small_mlp<double>());
  EXPECT_EQ(twice.num_parameters(), my::small_mlp<double>()->num_parameters());
  expect_module_derivatives(twice, {twice.initialize(10), randn({4, 3}, 11)});
}

TEST(Composite, NestedContainersPrefixNamesAndLayParametersOutInChildOrder) {
  const Sequential<double> net = my::residual_net<double>();
  const std::vector<std::pair<std::string, std::size_t>> expected = {
      {"fc_in.weight", 0},          {"fc_in.bias", 12},          // Linear(4 -> 3): 12 + 3
      {"block.f.fc1.weight", 15},   {"block.f.fc1.bias", 24},    // Linear(3 -> 3): 9 + 3
      {"block.f.fc2.weight", 27},   {"block.f.fc2.bias", 36},    //
      {"head.gate.weight", 39},     {"head.gate.bias", 45},      // Linear(3 -> 2): 6 + 2
      {"head.value.weight", 47},    {"head.value.bias", 53}};
  EXPECT_EQ(names_and_offsets(net), expected);
  EXPECT_EQ(net.num_parameters(), 55u);
  EXPECT_EQ(net.offset(1), 15u);
  EXPECT_EQ(net.offset(2), 39u);
  EXPECT_EQ(net.parameter("head.value.weight").shape, (Shape{2, 3}));

  // parameter_value reads each child's range: the residual's own view agrees.
  const Tensor<double> w = net.initialize(7);
  const auto& block = static_cast<const my::Residual<double>&>(net.child(1));
  Tensor<double> block_w = Tensor<double>::from_shape({block.num_parameters()});
  std::copy(w.data() + net.offset(1), w.data() + net.offset(2), block_w.data());
  EXPECT_EQ(net.parameter_value(w, "block.f.fc2.bias"), block.parameter_value(block_w, "f.fc2.bias"));
}

TEST(Composite, NestedContainersTrainAsOneVector) {
  const Sequential<double> net = my::residual_net<double>();
  expect_module_derivatives(net, {net.initialize(8), randn({5, 4}, 9)});
  expect_float32_matches_float64(my::residual_net<float>(), net, {net.initialize(8), randn({5, 4}, 9)});
}

TEST(Composite, ErrorsNameEveryContainerOnTheWayDown) {
  const Sequential<double> net = my::residual_net<double>();
  ad::Tape<double> tape;
  const ad::Var<double> w = tape.constant(net.initialize(1));
  // An input of the wrong width fails in f's fc1, under both containers' names.
  const my::Residual<double> block(my::small_mlp<double>());
  const std::string msg =
      error_of([&] { block.forward(tape.constant(block.initialize(1)), tape.constant(randn({2, 5}, 1))); });
  EXPECT_NE(msg.find("curv::nn::Residual: layer 'f' (Sequential(fc1, act, fc2), child 0)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("curv::nn::Sequential: layer 'fc1'"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { net.forward(w, tape.constant(randn({2, 5}, 1))); }).find("layer 'fc_in'"),
            std::string::npos);
  const std::string names = error_of([&] { net.index("body"); });
  EXPECT_NE(names.find("has no child 'body' (it has: fc_in, block, head)"), std::string::npos) << names;
}

}  // namespace
