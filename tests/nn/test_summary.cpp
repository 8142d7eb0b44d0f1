// nn::summary and summarize: each layer's output shape for an input shape
// and its parameter count, against the shapes and counts worked out by hand
// from the layers' definitions (the article CNN: 628,630 parameters), a
// nested Residual's paths and depths, and a refused input shape.
#include <gtest/gtest.h>

#include <memory>

#include "harness.hpp"

namespace curv::nn::testing {
namespace {

TEST(Summary, TheArticleCnnsShapesAndCountsAreThoseOfItsDefinition) {
  const Sequential<float> cnn = models::article_cnn<float>(3);
  const std::vector<LayerSummary> rows = summarize(cnn, {2, 1, 28, 28});
  ASSERT_EQ(rows.size(), 8u);
  EXPECT_EQ(rows[0].depth, 0u);
  EXPECT_EQ(rows[0].output_shape, (Shape{2, 10}));
  EXPECT_EQ(rows[0].num_parameters, 628630u);
  const std::vector<std::string> names{"conv1", "pool1", "tanh1", "flatten", "fc1", "tanh2", "fc2"};
  // 'same' padding keeps 28×28; pooling halves it.
  const std::vector<Shape> shapes{{2, 32, 28, 28}, {2, 32, 14, 14}, {2, 32, 14, 14}, {2, 6272}, {2, 100}, {2, 100}, {2, 10}};
  const std::vector<std::size_t> counts{32 * 9 + 32, 0, 0, 0, 6272 * 100 + 100, 0, 100 * 10 + 10};
  std::size_t total = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    EXPECT_EQ(rows[i + 1].name, names[i]);
    EXPECT_EQ(rows[i + 1].depth, 1u);
    EXPECT_EQ(rows[i + 1].output_shape, shapes[i]);
    EXPECT_EQ(rows[i + 1].num_parameters, counts[i]);
    EXPECT_EQ(rows[i + 1].description, cnn.child(i).describe());
    total += counts[i];
  }
  EXPECT_EQ(total, rows[0].num_parameters);
  const std::string table = summary(cnn, {1, 1, 28, 28});
  EXPECT_NE(table.find("628,630 parameters (2,514,520 bytes as float32)"), std::string::npos) << table;
  EXPECT_NE(table.find("(1, 32, 28, 28)"), std::string::npos) << table;
}

TEST(Summary, NestedContainersGiveEachChildItsPathAndDepth) {
  auto body = std::make_shared<Sequential<double>>();
  body->emplace<Linear<double>>("fc1", LinearOptions{4, 6});
  body->emplace<GELU<double>>("act");
  body->emplace<Dropout<double>>("drop", 0.5);
  body->emplace<Linear<double>>("fc2", LinearOptions{6, 3});
  Sequential<double> net;
  net.emplace<Residual<double>>("block", body, std::make_shared<const Linear<double>>(LinearOptions{4, 3, false}));
  net.emplace<LayerNorm<double>>("norm", LayerNormOptions{{3}});
  const std::vector<LayerSummary> rows = summarize(net, {5, 4});
  std::vector<std::string> names;
  for (const LayerSummary& r : rows) names.push_back(r.name + "@" + std::to_string(r.depth));
  EXPECT_EQ(names, (std::vector<std::string>{"@0", "block@1", "block.body@2", "block.body.fc1@3", "block.body.act@3",
                                             "block.body.drop@3", "block.body.fc2@3", "block.shortcut@2", "norm@1"}));
  EXPECT_EQ(rows[1].num_parameters, 30u + 21u + 12u);
  EXPECT_EQ(rows[1].output_shape, (Shape{5, 3}));
  EXPECT_EQ(rows[4].output_shape, (Shape{5, 6}));
  EXPECT_EQ(rows[8].num_parameters, 6u);
}

TEST(Summary, AnInputShapeTheModelDoesNotTakeIsRefusedNamingTheLayer) {
  const Sequential<double> mlp = models::mlp<double>({8, 4, 2});
  const std::string e = error_of([&] { summarize(mlp, {3, 7}); });
  EXPECT_NE(e.find("fc1"), std::string::npos) << e;
}

}  // namespace
}  // namespace curv::nn::testing
