// curv::ad::Tape, the Wengert list that records ops in execution order, and
// curv::ad::Var, a cheap handle to one of its nodes.
//
// Each node holds its value and, when present, its tangent (forward-mode
// direction), its adjoint (gradient of the swept output) and the adjoint's
// tangent (H·v at the inputs after a tangent-seeded forward pass). The reverse
// sweep walks the nodes backwards once: creation order is a topological order.
// A leaf may borrow its value (and tangent) from the caller instead of owning a
// copy, and a view (Tape::view, ad::view) reads a range of another node's
// storage without one: ops that read their inputs through OpContext's
// pointer accessors (input_data, input_adjoint_data, …) see the parent's
// storage and add their adjoints straight into the parent's, so a layer's
// weights viewed out of the flat parameter vector, or a flattened
// activation, cost no copy. Tapes are not shared between threads; there is
// no global tape.
//
// The nodes are the tape's own: ops reach theirs through an OpContext, other
// code through a Var or the Tape's public operations below.
#pragma once

#include <cassert>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "curv/autodiff/op.hpp"
#include "curv/autodiff/tensor.hpp"

namespace curv::ad {

template <class T>
class Tape;
template <class T>
class OpContext;

template <class T>
class Var {
 public:
  Var() = default;
  Var(Tape<T>& tape, std::size_t index) : tape_(&tape), index_(index) {}

  Tape<T>& tape() const { return *tape_; }
  std::size_t index() const { return index_; }
  bool valid() const { return tape_ != nullptr; }

  // The value. A view's is copied out of its parent on first use and kept
  // (ops and layers that read in place use data() instead).
  const Tensor<T>& value() const;
  // The value's first element in row-major order: a view's reads its
  // parent's storage in place.
  const T* data() const;
  const typename Tensor<T>::shape_type& shape() const;
  std::size_t size() const;
  std::size_t dimension() const { return shape().size(); }
  // Whether this node is a view of another's storage (Tape::view).
  bool is_view() const;

  bool has_tangent() const;
  const Tensor<T>& tangent() const;  // throws if the node has no tangent

  // After Tape::backward: the adjoint of this node (zeros if the swept output
  // does not depend on it) and, after a tangent-seeded forward pass, its
  // tangent (H·v for the seeded variable). A view's are its parent's over
  // the view's range.
  Tensor<T> grad() const;
  Tensor<T> adjoint_tangent() const;

 private:
  Tape<T>* tape_ = nullptr;
  std::size_t index_ = 0;
};

template <class T>
class Tape {
 public:
  Tape() = default;
  Tape(const Tape&) = delete;  // Vars point at their tape: it never moves
  Tape& operator=(const Tape&) = delete;

  // A leaf whose adjoint is wanted.
  Var<T> variable(Tensor<T> value);
  // A leaf whose adjoint is wanted, carrying a forward-mode tangent (same shape).
  Var<T> variable(Tensor<T> value, Tensor<T> tangent);
  // A leaf with no adjoint and no tangent (data, targets, scalars).
  Var<T> constant(Tensor<T> value);

  // The same three leaves reading the caller's tensors in place instead of
  // copying them: for a parameter vector w (and direction v) shared by many
  // tapes at once, each copy is a parameter-sized buffer per tape. The tensors
  // must outlive the tape and stay unchanged while it is in use.
  Var<T> borrowed_variable(const Tensor<T>& value);
  Var<T> borrowed_variable(const Tensor<T>& value, const Tensor<T>& tangent);
  Var<T> borrowed_constant(const Tensor<T>& value);
  // Temporaries would dangle.
  Var<T> borrowed_variable(Tensor<T>&&) = delete;
  Var<T> borrowed_variable(Tensor<T>&&, const Tensor<T>&) = delete;
  Var<T> borrowed_variable(const Tensor<T>&, Tensor<T>&&) = delete;
  Var<T> borrowed_constant(Tensor<T>&&) = delete;

  // A node reading x's elements [offset, offset + size of `shape`) in
  // row-major order as a tensor of `shape`, without a copy: its tangent is
  // x's over that range, and the adjoints of ops that read it in place land
  // in x's adjoint over that range (those of ops that read value() land in
  // the view's own and are added into x's when the sweep reaches the view).
  // A view of a view reads the first one's parent. ad::view, ad::slice and
  // ad::reshape are views.
  Var<T> view(const Var<T>& x, std::size_t offset, Shape shape);

  // Appends an op's node. `value` is the op's output; its tangent is computed
  // now when any input has one. All inputs must be on this tape.
  Var<T> record(std::unique_ptr<Op<T>> op, std::initializer_list<Var<T>> inputs, Tensor<T> value);
  Var<T> record(std::unique_ptr<Op<T>> op, std::span<const Var<T>> inputs, Tensor<T> value);

  // Reverse sweep from a scalar output (seed ȳ = 1).
  void backward(const Var<T>& output);
  // Reverse sweep with an explicit seed ȳ (a vector-Jacobian product) and,
  // optionally, a seed for its tangent ȳ̇.
  void backward(const Var<T>& output, Tensor<T> seed);
  void backward(const Var<T>& output, Tensor<T> seed, Tensor<T> seed_tangent);

  // Forgets every adjoint so that another backward() starts from zero.
  void zero_adjoints();
  // Forgets every recorded tangent (a leaf's seeded one included), as if the
  // forward pass had carried none. A later backward(output, seed,
  // seed_tangent) then propagates only the seed tangent ȳ̇: the adjoint
  // tangent at a leaf is the VJP Jᵀ ȳ̇, without the second-order terms of the
  // recorded ops. nn::gauss_newton_product sweeps (∇ℓ, H_ℓ J v) so, after
  // the forward pass that gave it J v, to get Jᵀ H_ℓ J v.
  void drop_tangents();

  // x's adjoint (after backward(): the gradient at x), moved out of the tape
  // rather than copied; zeros of x's shape if the sweep did not reach x.
  // Afterwards x has no adjoint (x.grad() reads zeros). Meant for a tape
  // about to be discarded: a parameter vector's adjoint leaves it uncopied.
  // A view's is copied out of its parent's (which keeps it).
  Tensor<T> take_adjoint(const Var<T>& x);
  // The same for x's adjoint tangent (H·v at x after a tangent-seeded
  // forward pass and backward()).
  Tensor<T> take_adjoint_tangent(const Var<T>& x);

  // Drops every node; Vars of this tape become invalid.
  void clear() { nodes_.clear(); }

  std::size_t size() const { return nodes_.size(); }

  // What node i holds, for tests and memory diagnostics: its op's name
  // (empty for a leaf) and how many elements of its value and adjoint the
  // tape stores itself (0 for a borrowed leaf's value and for an adjoint
  // not created or taken).
  struct NodeInfo {
    std::string_view op;
    std::size_t value_size = 0;
    std::size_t adjoint_size = 0;
  };
  NodeInfo node_info(std::size_t i) const;

 private:
  friend class Var<T>;
  friend class OpContext<T>;

  struct Node {
    // Empty (0-d) for a borrowed leaf and, until first asked for, for a view:
    // read them through Tape::value_of() / tangent_of().
    Tensor<T> value;
    Tensor<T> tangent;
    Tensor<T> adjoint;
    Tensor<T> adjoint_tangent;
    std::unique_ptr<Op<T>> op;  // null for leaves
    std::vector<std::size_t> inputs;
    bool has_tangent = false;
    bool has_adjoint = false;
    bool has_adjoint_tangent = false;
    bool requires_grad = false;  // some variable upstream wants an adjoint
    // A borrowed leaf's value and tangent, owned by the caller (Tape::borrowed_variable,
    // Tape::borrowed_constant).
    const Tensor<T>* borrowed_value = nullptr;
    const Tensor<T>* borrowed_tangent = nullptr;
    // A view's parent (never itself a view), where the view starts in it and
    // its shape; `value` / `tangent` hold copies once made.
    bool is_view = false;
    std::size_t parent = 0;
    std::size_t offset = 0;
    typename Tensor<T>::shape_type view_shape;
    bool value_copied = false;
    bool tangent_copied = false;
  };

  const Node& node(std::size_t i) const { return nodes_[i]; }
  Node& node(std::size_t i) { return nodes_[i]; }

  // Node i's value, tangent and shape (a view's value and tangent copied out
  // of its parent on first use), and its storage in place.
  const Tensor<T>& value_of(std::size_t i);
  const Tensor<T>& tangent_of(std::size_t i);
  const typename Tensor<T>::shape_type& shape_of(std::size_t i) const {
    const Node& n = nodes_[i];
    if (n.is_view) return n.view_shape;
    return n.borrowed_value ? n.borrowed_value->shape() : n.value.shape();
  }
  std::size_t size_of(std::size_t i) const {
    std::size_t size = 1;
    for (std::size_t d : shape_of(i)) size *= d;
    return size;
  }
  const T* data_of(std::size_t i) const {
    const Node& n = nodes_[i];
    if (n.is_view) return data_of(n.parent) + n.offset;
    return n.borrowed_value ? n.borrowed_value->data() : n.value.data();
  }
  const T* tangent_data_of(std::size_t i) const {
    const Node& n = nodes_[i];
    assert(n.has_tangent);
    if (n.is_view) return tangent_data_of(n.parent) + n.offset;
    return n.borrowed_tangent ? n.borrowed_tangent->data() : n.tangent.data();
  }
  // Node i's adjoint (or adjoint tangent) as storage to accumulate into,
  // created as zeros on first use; a view's is its parent's range. With
  // `fresh`, an adjoint not yet created is left uninitialized for the caller
  // to assign (and fresh set), unless it is a view of part of its parent.
  T* adjoint_data(std::size_t i, bool* fresh = nullptr);
  T* adjoint_tangent_data(std::size_t i, bool* fresh = nullptr);
  static T* ensure(Tensor<T>& t, bool& has, const typename Tensor<T>::shape_type& shape, bool* fresh);
  T* in_place(std::size_t i, Tensor<T> Node::*field, bool Node::*has, bool* fresh);

  Var<T> push_leaf(Tensor<T> value, bool requires_grad);
  static void check_tangent_shape(const Tensor<T>& value, const Tensor<T>& tangent);
  void sweep(const Var<T>& output, Tensor<T> seed, std::optional<Tensor<T>> seed_tangent);
  void check_owned(const Var<T>& v, std::string_view what) const;

  std::vector<Node> nodes_;
};

// What an op sees of its node during recording and during the reverse sweep.
//
// An input may be a view of another node's storage. The tensor accessors
// (input, input_tangent, input_adjoint, …) see it as a tensor of its own:
// its value is copied out of the parent on first use, its adjoint is its own
// and reaches the parent when the sweep passes the view. The pointer
// accessors (input_data, input_adjoint_data, …) read and accumulate in the
// parent's storage in place: ops that take large operands (linear, conv2d)
// use them, so viewing weights or flattening activations copies nothing.
template <class T>
class OpContext {
  using Node = typename Tape<T>::Node;

 public:
  OpContext(Tape<T>& tape, std::size_t index) : tape_(tape), node_(tape.node(index)) {}

  std::size_t arity() const { return node_.inputs.size(); }

  const Tensor<T>& input(std::size_t i) const { return tape_.value_of(index(i)); }
  bool has_tangent(std::size_t i) const { return in(i).has_tangent; }
  const Tensor<T>& input_tangent(std::size_t i) const {
    assert(in(i).has_tangent);
    return tape_.tangent_of(index(i));
  }

  // xᵢ's shape, and its value and tangent in place (row-major).
  const typename Tensor<T>::shape_type& input_shape(std::size_t i) const { return tape_.shape_of(index(i)); }
  const T* input_data(std::size_t i) const { return tape_.data_of(index(i)); }
  const T* input_tangent_data(std::size_t i) const { return tape_.tangent_data_of(index(i)); }

  const Tensor<T>& output() const { return node_.value; }
  bool has_output_tangent() const { return node_.has_tangent; }
  const Tensor<T>& output_tangent() const {
    assert(node_.has_tangent);
    return node_.tangent;
  }

  // ȳ, and its tangent ȳ̇ when present.
  const Tensor<T>& adjoint() const { return node_.adjoint; }
  bool has_adjoint_tangent() const { return node_.has_adjoint_tangent; }
  const Tensor<T>& adjoint_tangent() const {
    assert(node_.has_adjoint_tangent);
    return node_.adjoint_tangent;
  }

  bool needs_adjoint(std::size_t i) const { return in(i).requires_grad; }

  // x̄ᵢ and x̄̇ᵢ, created as zeros of xᵢ's shape on first use, for in-place
  // accumulation (e.g. by BLAS with beta = 1, or into a slice).
  Tensor<T>& input_adjoint(std::size_t i) {
    Node& n = in(i);
    Tape<T>::ensure(n.adjoint, n.has_adjoint, tape_.shape_of(index(i)), nullptr);
    return n.adjoint;
  }
  Tensor<T>& input_adjoint_tangent(std::size_t i) {
    Node& n = in(i);
    Tape<T>::ensure(n.adjoint_tangent, n.has_adjoint_tangent, tape_.shape_of(index(i)), nullptr);
    return n.adjoint_tangent;
  }

  // The same for an op that writes every element of x̄ᵢ (or x̄̇ᵢ): when it
  // does not exist yet it is created uninitialized and `fresh` is set, so the
  // op assigns instead of adding and the zero fill is saved (for the large
  // activations of a network, a pass over memory per layer); otherwise the
  // op accumulates into it as usual.
  Tensor<T>& input_adjoint_to_write(std::size_t i, bool& fresh) {
    Node& n = in(i);
    Tape<T>::ensure(n.adjoint, n.has_adjoint, tape_.shape_of(index(i)), &fresh);
    return n.adjoint;
  }
  Tensor<T>& input_adjoint_tangent_to_write(std::size_t i, bool& fresh) {
    Node& n = in(i);
    Tape<T>::ensure(n.adjoint_tangent, n.has_adjoint_tangent, tape_.shape_of(index(i)), &fresh);
    return n.adjoint_tangent;
  }

  // x̄ᵢ and x̄̇ᵢ in place: for a view, its parent's storage over the view's
  // range. The _to_write forms set `fresh` as above (never for a view of
  // part of its parent, whose other elements the op does not write).
  T* input_adjoint_data(std::size_t i) { return tape_.adjoint_data(index(i)); }
  T* input_adjoint_tangent_data(std::size_t i) { return tape_.adjoint_tangent_data(index(i)); }
  T* input_adjoint_data_to_write(std::size_t i, bool& fresh) { return tape_.adjoint_data(index(i), &fresh); }
  T* input_adjoint_tangent_data_to_write(std::size_t i, bool& fresh) {
    return tape_.adjoint_tangent_data(index(i), &fresh);
  }

 private:
  std::size_t index(std::size_t i) const { return node_.inputs[i]; }
  Node& in(std::size_t i) const { return tape_.node(index(i)); }

  Tape<T>& tape_;
  Node& node_;
};

// A view's one rule that the tape does not apply itself: the adjoint (and
// adjoint tangent) that ops reading the view as a tensor left in the view's
// own storage is added into its parent's range.
template <class T>
class ViewOp final : public Op<T> {
 public:
  explicit ViewOp(std::size_t offset) : offset_(offset) {}
  std::string_view name() const override { return "view"; }
  Tensor<T> tangent(const OpContext<T>&) const override {
    throw std::logic_error("curv::ad::ViewOp::tangent: a view's tangent is its parent's, never recorded");
  }
  void adjoint(OpContext<T>& c) const override { add(c.adjoint(), c.input_adjoint_data(0) + offset_); }
  void adjoint_tangent(OpContext<T>& c) const override {
    if (c.has_adjoint_tangent()) add(c.adjoint_tangent(), c.input_adjoint_tangent_data(0) + offset_);
  }

 private:
  std::size_t offset_;
  static void add(const Tensor<T>& from, T* into) {
    const T* in = from.data();
    for (std::size_t k = 0, n = from.size(); k < n; ++k) into[k] += in[k];
  }
};

// ---------------------------------------------------------------------------

template <class T>
const Tensor<T>& Var<T>::value() const {
  return tape_->value_of(index_);
}

template <class T>
const T* Var<T>::data() const {
  return tape_->data_of(index_);
}

template <class T>
const typename Tensor<T>::shape_type& Var<T>::shape() const {
  return tape_->shape_of(index_);
}

template <class T>
std::size_t Var<T>::size() const {
  return tape_->size_of(index_);
}

template <class T>
bool Var<T>::is_view() const {
  return tape_->node(index_).is_view;
}

template <class T>
bool Var<T>::has_tangent() const {
  return tape_->node(index_).has_tangent;
}

template <class T>
const Tensor<T>& Var<T>::tangent() const {
  if (!tape_->node(index_).has_tangent)
    throw std::logic_error("curv::ad::Var::tangent: this node carries no tangent (seed one with Tape::variable(value, tangent))");
  return tape_->tangent_of(index_);
}

namespace detail {

// A copy of `size` elements of `from` with `shape`.
template <class T, class S>
Tensor<T> copy_as(const T* from, const S& shape) {
  Tensor<T> t = Tensor<T>::from_shape(shape);
  std::copy(from, from + t.size(), t.data());
  return t;
}

}  // namespace detail

template <class T>
Tensor<T> Var<T>::grad() const {
  const typename Tape<T>::Node& n = tape_->node(index_);
  if (n.is_view) {
    // The sweep added the view's own adjoint into its parent's range.
    const typename Tape<T>::Node& p = tape_->node(n.parent);
    if (!p.has_adjoint) return Tensor<T>(xt::zeros<T>(n.view_shape));
    return detail::copy_as(p.adjoint.data() + n.offset, n.view_shape);
  }
  return n.has_adjoint ? n.adjoint : Tensor<T>(xt::zeros<T>(shape()));
}

template <class T>
Tensor<T> Var<T>::adjoint_tangent() const {
  const typename Tape<T>::Node& n = tape_->node(index_);
  if (n.is_view) {
    const typename Tape<T>::Node& p = tape_->node(n.parent);
    if (!p.has_adjoint_tangent) return Tensor<T>(xt::zeros<T>(n.view_shape));
    return detail::copy_as(p.adjoint_tangent.data() + n.offset, n.view_shape);
  }
  return n.has_adjoint_tangent ? n.adjoint_tangent : Tensor<T>(xt::zeros<T>(shape()));
}

template <class T>
const Tensor<T>& Tape<T>::value_of(std::size_t i) {
  Node& n = nodes_[i];
  if (n.is_view && !n.value_copied) {
    n.value = detail::copy_as(data_of(i), n.view_shape);
    n.value_copied = true;
  }
  return n.borrowed_value ? *n.borrowed_value : n.value;
}

template <class T>
const Tensor<T>& Tape<T>::tangent_of(std::size_t i) {
  Node& n = nodes_[i];
  assert(n.has_tangent);
  if (n.is_view && !n.tangent_copied) {
    n.tangent = detail::copy_as(tangent_data_of(i), n.view_shape);
    n.tangent_copied = true;
  }
  return n.borrowed_tangent ? *n.borrowed_tangent : n.tangent;
}

template <class T>
T* Tape<T>::ensure(Tensor<T>& t, bool& has, const typename Tensor<T>::shape_type& shape, bool* fresh) {
  if (fresh) *fresh = !has;
  if (!has) {
    t = fresh ? Tensor<T>::from_shape(shape) : Tensor<T>(xt::zeros<T>(shape));
    has = true;
  }
  return t.data();
}

template <class T>
T* Tape<T>::in_place(std::size_t i, Tensor<T> Node::*field, bool Node::*has, bool* fresh) {
  Node& n = nodes_[i];
  if (!n.is_view) return ensure(n.*field, n.*has, shape_of(i), fresh);
  // Only a view of the whole parent may leave the parent's storage for the caller to assign.
  const bool whole = n.offset == 0 && size_of(i) == size_of(n.parent);
  if (fresh) *fresh = false;
  return in_place(n.parent, field, has, whole ? fresh : nullptr) + n.offset;
}

template <class T>
T* Tape<T>::adjoint_data(std::size_t i, bool* fresh) {
  return in_place(i, &Node::adjoint, &Node::has_adjoint, fresh);
}

template <class T>
T* Tape<T>::adjoint_tangent_data(std::size_t i, bool* fresh) {
  return in_place(i, &Node::adjoint_tangent, &Node::has_adjoint_tangent, fresh);
}

template <class T>
Var<T> Tape<T>::view(const Var<T>& x, std::size_t offset, Shape shape) {
  check_owned(x, "view");
  std::size_t size = 1;
  for (std::size_t d : shape) size *= d;
  if (offset + size > x.size())
    throw std::invalid_argument("curv::ad::view: elements [" + std::to_string(offset) + ", " +
                                std::to_string(offset + size) + ") for shape " + shape_string(shape) +
                                " do not fit in " + shape_string(x.shape()) + " (" + std::to_string(x.size()) +
                                " elements)");
  const Node& from = nodes_[x.index()];
  const std::size_t parent = from.is_view ? from.parent : x.index();
  if (from.is_view) offset += from.offset;
  const bool requires_grad = from.requires_grad, has_tangent = from.has_tangent;
  Node& n = nodes_.emplace_back();
  n.op = std::make_unique<ViewOp<T>>(offset);
  n.inputs = {parent};
  n.requires_grad = requires_grad;
  n.has_tangent = has_tangent;
  n.is_view = true;
  n.parent = parent;
  n.offset = offset;
  n.view_shape = typename Tensor<T>::shape_type(shape.begin(), shape.end());
  return Var<T>(*this, nodes_.size() - 1);
}

template <class T>
Var<T> Tape<T>::push_leaf(Tensor<T> value, bool requires_grad) {
  Node& n = nodes_.emplace_back();
  n.value = std::move(value);
  n.requires_grad = requires_grad;
  return Var<T>(*this, nodes_.size() - 1);
}

template <class T>
Var<T> Tape<T>::variable(Tensor<T> value) {
  return push_leaf(std::move(value), true);
}

template <class T>
void Tape<T>::check_tangent_shape(const Tensor<T>& value, const Tensor<T>& tangent) {
  if (value.shape() != tangent.shape())
    throw std::invalid_argument("curv::ad::Tape::variable: tangent has shape " +
                                shape_string(tangent.shape()) + ", expected the value's shape " +
                                shape_string(value.shape()));
}

template <class T>
Var<T> Tape<T>::variable(Tensor<T> value, Tensor<T> tangent) {
  check_tangent_shape(value, tangent);
  Var<T> v = push_leaf(std::move(value), true);
  Node& n = nodes_.back();
  n.tangent = std::move(tangent);
  n.has_tangent = true;
  return v;
}

template <class T>
Var<T> Tape<T>::constant(Tensor<T> value) {
  return push_leaf(std::move(value), false);
}

template <class T>
Var<T> Tape<T>::borrowed_variable(const Tensor<T>& value) {
  Var<T> v = push_leaf(Tensor<T>(), true);
  nodes_.back().borrowed_value = &value;
  return v;
}

template <class T>
Var<T> Tape<T>::borrowed_variable(const Tensor<T>& value, const Tensor<T>& tangent) {
  check_tangent_shape(value, tangent);
  Var<T> v = push_leaf(Tensor<T>(), true);
  Node& n = nodes_.back();
  n.borrowed_value = &value;
  n.borrowed_tangent = &tangent;
  n.has_tangent = true;
  return v;
}

template <class T>
Var<T> Tape<T>::borrowed_constant(const Tensor<T>& value) {
  Var<T> v = push_leaf(Tensor<T>(), false);
  nodes_.back().borrowed_value = &value;
  return v;
}

template <class T>
void Tape<T>::check_owned(const Var<T>& v, std::string_view what) const {
  if (!v.valid() || &v.tape() != this)
    throw std::invalid_argument("curv::ad::" + std::string(what) +
                                ": an operand belongs to another tape (or is empty); all operands of an op must be on one tape");
}

template <class T>
Var<T> Tape<T>::record(std::unique_ptr<Op<T>> op, std::initializer_list<Var<T>> inputs,
                       Tensor<T> value) {
  return record(std::move(op), std::span<const Var<T>>(inputs.begin(), inputs.size()),
                std::move(value));
}

template <class T>
Var<T> Tape<T>::record(std::unique_ptr<Op<T>> op, std::span<const Var<T>> inputs, Tensor<T> value) {
  bool requires_grad = false;
  bool has_tangent = false;
  for (const Var<T>& v : inputs) {
    check_owned(v, op->name());
    requires_grad = requires_grad || nodes_[v.index()].requires_grad;
    has_tangent = has_tangent || nodes_[v.index()].has_tangent;
  }
  Node& n = nodes_.emplace_back();
  n.value = std::move(value);
  n.op = std::move(op);
  n.requires_grad = requires_grad;
  n.inputs.reserve(inputs.size());
  for (const Var<T>& v : inputs) n.inputs.push_back(v.index());
  const std::size_t index = nodes_.size() - 1;
  if (has_tangent) {
    Tensor<T> t = nodes_[index].op->tangent(OpContext<T>(*this, index));
    assert(t.shape() == nodes_[index].value.shape());
    nodes_[index].tangent = std::move(t);
    nodes_[index].has_tangent = true;
  }
  return Var<T>(*this, index);
}

template <class T>
void Tape<T>::backward(const Var<T>& output) {
  check_owned(output, "Tape::backward");
  if (output.size() != 1)
    throw std::invalid_argument("curv::ad::Tape::backward: output has shape " +
                                shape_string(output.shape()) +
                                ", expected a scalar (pass a seed for a vector-Jacobian product)");
  backward(output, Tensor<T>(xt::ones<T>(output.shape())));
}

template <class T>
void Tape<T>::backward(const Var<T>& output, Tensor<T> seed) {
  sweep(output, std::move(seed), std::nullopt);
}

template <class T>
void Tape<T>::backward(const Var<T>& output, Tensor<T> seed, Tensor<T> seed_tangent) {
  sweep(output, std::move(seed), std::move(seed_tangent));
}

template <class T>
void Tape<T>::sweep(const Var<T>& output, Tensor<T> seed, std::optional<Tensor<T>> seed_tangent) {
  check_owned(output, "Tape::backward");
  const auto& shape = shape_of(output.index());
  if (seed.shape() != shape)
    throw std::invalid_argument("curv::ad::Tape::backward: seed has shape " + shape_string(seed.shape()) +
                                ", expected the output's shape " + shape_string(shape));
  if (seed_tangent && seed_tangent->shape() != shape)
    throw std::invalid_argument("curv::ad::Tape::backward: seed tangent has shape " +
                                shape_string(seed_tangent->shape()) + ", expected the output's shape " +
                                shape_string(shape));
  Node& out = nodes_[output.index()];
  zero_adjoints();
  out.adjoint = std::move(seed);
  out.has_adjoint = true;
  if (seed_tangent) {
    out.adjoint_tangent = std::move(*seed_tangent);
    out.has_adjoint_tangent = true;
  }
  for (std::size_t i = output.index() + 1; i-- > 0;) {
    Node& n = nodes_[i];
    if (!n.op || !n.has_adjoint || !n.requires_grad) continue;
    OpContext<T> c(*this, i);
    n.op->adjoint(c);
    if (n.has_tangent || n.has_adjoint_tangent) n.op->adjoint_tangent(c);
  }
}

template <class T>
void Tape<T>::drop_tangents() {
  for (Node& n : nodes_) {
    n.tangent = Tensor<T>();
    n.borrowed_tangent = nullptr;
    n.has_tangent = false;
    n.tangent_copied = false;
  }
}

template <class T>
Tensor<T> Tape<T>::take_adjoint(const Var<T>& x) {
  check_owned(x, "Tape::take_adjoint");
  Node& n = nodes_[x.index()];
  if (n.is_view) return x.grad();
  if (!n.has_adjoint) return Tensor<T>(xt::zeros<T>(x.shape()));
  n.has_adjoint = false;
  return std::move(n.adjoint);
}

template <class T>
Tensor<T> Tape<T>::take_adjoint_tangent(const Var<T>& x) {
  check_owned(x, "Tape::take_adjoint_tangent");
  Node& n = nodes_[x.index()];
  if (n.is_view) return x.adjoint_tangent();
  if (!n.has_adjoint_tangent) return Tensor<T>(xt::zeros<T>(x.shape()));
  n.has_adjoint_tangent = false;
  return std::move(n.adjoint_tangent);
}

template <class T>
typename Tape<T>::NodeInfo Tape<T>::node_info(std::size_t i) const {
  if (i >= nodes_.size())
    throw std::out_of_range("curv::ad::Tape::node_info: node " + std::to_string(i) + " of a tape of " +
                            std::to_string(nodes_.size()) + " nodes");
  const Node& n = nodes_[i];
  // A view stores a value only once copied out (0-d otherwise: one element, none stored).
  const std::size_t value_size = n.borrowed_value || (n.is_view && !n.value_copied) ? 0 : n.value.size();
  return {n.op ? n.op->name() : std::string_view(), value_size, n.has_adjoint ? n.adjoint.size() : 0};
}

template <class T>
void Tape<T>::zero_adjoints() {
  for (Node& n : nodes_) {
    n.adjoint = Tensor<T>();
    n.adjoint_tangent = Tensor<T>();
    n.has_adjoint = false;
    n.has_adjoint_tangent = false;
  }
}

extern template class Tape<float>;
extern template class Tape<double>;

}  // namespace curv::ad
