// curv::nn::summarize and summary (see summary.hpp).
#include "curv/nn/summary.hpp"

#include <algorithm>
#include <sstream>

namespace curv::nn {
namespace {

// Rows in the order children are entered, each filled in when it is left.
class Recorder final : public ForwardObserver {
 public:
  explicit Recorder(std::vector<LayerSummary>& rows) : rows_(rows) {}

  void enter(std::string_view name) override {
    LayerSummary row;
    row.name = path_.empty() ? std::string(name) : rows_[path_.back()].name + "." + std::string(name);
    row.depth = path_.size() + 1;
    path_.push_back(rows_.size());
    rows_.push_back(std::move(row));
  }

  void leave(std::string_view, std::string_view description, std::size_t num_parameters,
             const Shape& output_shape) override {
    LayerSummary& row = rows_[path_.back()];
    row.description = description;
    row.num_parameters = num_parameters;
    row.output_shape = output_shape;
    path_.pop_back();
  }

 private:
  std::vector<LayerSummary>& rows_;
  std::vector<std::size_t> path_;  // the rows of the children being run
};

// 628630 as "628,630".
std::string grouped(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

template <class T>
std::vector<LayerSummary> summarize(const Module<T>& model, const Shape& input_shape) {
  std::vector<LayerSummary> rows(1);
  Recorder recorder(rows);
  ForwardContext context;
  context.observer = &recorder;
  ad::Tape<T> tape;
  const Tensor<T> w = xt::zeros<T>({model.num_parameters()});
  const ad::Var<T> y = model.forward(tape.constant(w), tape.constant(Tensor<T>(xt::zeros<T>(input_shape))), context);
  rows[0].description = model.describe();
  rows[0].num_parameters = model.num_parameters();
  rows[0].output_shape = Shape(y.shape().begin(), y.shape().end());
  return rows;
}

template <class T>
std::string summary(const Module<T>& model, const Shape& input_shape) {
  const std::vector<LayerSummary> rows = summarize(model, input_shape);
  std::vector<std::string> names, shapes, counts;
  std::size_t name_width = 5, description_width = 6, shape_width = 12, count_width = 10;
  for (const LayerSummary& r : rows) {
    names.push_back(std::string(2 * r.depth, ' ') + (r.depth == 0 ? "(model)" : r.name.substr(r.name.rfind('.') + 1)));
    shapes.push_back(shape_string(r.output_shape));
    counts.push_back(grouped(r.num_parameters));
    name_width = std::max(name_width, names.back().size());
    description_width = std::max(description_width, r.description.size());
    shape_width = std::max(shape_width, shapes.back().size());
    count_width = std::max(count_width, counts.back().size());
  }
  std::ostringstream s;
  auto line = [&](const std::string& a, const std::string& b, const std::string& c, const std::string& d) {
    s << a << std::string(name_width - a.size() + 2, ' ') << b << std::string(description_width - b.size() + 2, ' ')
      << c << std::string(shape_width - c.size() + 2, ' ') << std::string(count_width - d.size(), ' ') << d << '\n';
  };
  line("layer", "module", "output shape", "parameters");
  for (std::size_t i = 0; i < rows.size(); ++i) line(names[i], rows[i].description, shapes[i], counts[i]);
  s << "input " << shape_string(input_shape) << ", " << grouped(model.num_parameters()) << " parameters ("
    << grouped(model.num_parameters() * sizeof(T)) << " bytes as " << (sizeof(T) == 4 ? "float32" : "float64")
    << ")\n";
  return s.str();
}

template std::vector<LayerSummary> summarize(const Module<float>&, const Shape&);
template std::vector<LayerSummary> summarize(const Module<double>&, const Shape&);
template std::string summary(const Module<float>&, const Shape&);
template std::string summary(const Module<double>&, const Shape&);

}  // namespace curv::nn
