#include "engine/convolver.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "engine/testing/analysis.h"

namespace sy::engine {
namespace {

std::vector<float> noise(std::size_t n, unsigned seed) { return testing::white_noise(n, seed, 1.0f); }

std::vector<double> direct_convolution(const std::vector<float>& x, const std::vector<float>& h) {
  std::vector<double> y(x.size(), 0.0);
  for (std::size_t n = 0; n < x.size(); ++n)
    for (std::size_t m = 0; m < h.size() && m <= n; ++m) y[n] += double{x[n - m]} * double{h[m]};
  return y;
}

// Runs the convolver over whole signals, block by block.
std::vector<std::vector<float>> run(PartitionedConvolver& conv,
                                    const std::vector<std::vector<float>>& inputs) {
  const std::size_t b = conv.block();
  const std::size_t n = inputs[0].size();
  std::vector<std::vector<float>> outputs(conv.num_outputs(), std::vector<float>(n));
  std::vector<const float*> in_planes;
  std::vector<float*> out_planes;
  for (const auto& v : inputs) in_planes.push_back(v.data());
  for (auto& v : outputs) out_planes.push_back(v.data());
  const ConstAudioView in(in_planes.data(), in_planes.size(), n);
  const AudioView out(out_planes.data(), out_planes.size(), n);
  for (std::size_t pos = 0; pos + b <= n; pos += b) conv.process(in.slice(pos, b), out.slice(pos, b));
  return outputs;
}

double max_abs_error(const std::vector<float>& got, const std::vector<double>& want) {
  double err = 0;
  for (std::size_t i = 0; i < got.size(); ++i) err = std::max(err, std::abs(double{got[i]} - want[i]));
  return err;
}

TEST(PartitionedConvolverTest, SingleChannelMatchesDirectConvolution) {
  for (std::size_t length : {1u, 37u, 64u, 65u, 300u, 1000u}) {
    PartitionedConvolver conv(64, 1, 1);
    const auto h = noise(length, 7 + static_cast<unsigned>(length));
    conv.set_filter(0, 0, h);
    const auto x = noise(64 * 40, 3);
    const auto y = run(conv, {x});
    const auto want = direct_convolution(x, h);
    const double scale = std::sqrt(static_cast<double>(length));
    EXPECT_LT(max_abs_error(y[0], want), 2e-5 * scale) << "filter length " << length;
  }
}

TEST(PartitionedConvolverTest, MatrixSumsEveryPathAndSkipsEmptyOnes) {
  PartitionedConvolver conv(128, 3, 2);
  const auto h00 = noise(500, 1), h02 = noise(129, 2), h11 = noise(256, 3);
  conv.set_filter(0, 0, h00);
  conv.set_filter(0, 2, h02);
  conv.set_filter(1, 1, h11);
  const std::vector<std::vector<float>> x = {noise(128 * 20, 10), noise(128 * 20, 11),
                                             noise(128 * 20, 12)};
  const auto y = run(conv, x);
  auto want0 = direct_convolution(x[0], h00);
  const auto part = direct_convolution(x[2], h02);
  for (std::size_t i = 0; i < want0.size(); ++i) want0[i] += part[i];
  const auto want1 = direct_convolution(x[1], h11);
  EXPECT_LT(max_abs_error(y[0], want0), 1e-3);
  EXPECT_LT(max_abs_error(y[1], want1), 1e-3);
  // The error bound above is loose; the signals themselves are of order 10.
  EXPECT_GT(std::abs(want0[1000]) + std::abs(want0[2000]), 0.1);
}

// Each input's two blocks sit in one buffer in either order (the spectrum's sign fixed up
// every other block), at padded offsets: an odd block size and several inputs check both.
TEST(PartitionedConvolverTest, OddBlockSizeWithSeveralInputs) {
  PartitionedConvolver conv(37, 3, 1);
  const auto h0 = noise(90, 21), h1 = noise(37, 22), h2 = noise(5, 23);
  conv.set_filter(0, 0, h0);
  conv.set_filter(0, 1, h1);
  conv.set_filter(0, 2, h2);
  const std::vector<std::vector<float>> x = {noise(37 * 30, 24), noise(37 * 30, 25), noise(37 * 30, 26)};
  const auto y = run(conv, x);
  auto want = direct_convolution(x[0], h0);
  const auto w1 = direct_convolution(x[1], h1), w2 = direct_convolution(x[2], h2);
  for (std::size_t i = 0; i < want.size(); ++i) want[i] += w1[i] + w2[i];
  EXPECT_LT(max_abs_error(y[0], want), 1e-4);
}

TEST(PartitionedConvolverTest, ResetForgetsThePast) {
  PartitionedConvolver conv(32, 1, 1);
  conv.set_filter(0, 0, noise(100, 5));
  const auto x = noise(32 * 8, 6);
  const auto first = run(conv, {x});
  conv.reset();
  const auto second = run(conv, {x});
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(first[0][i], second[0][i]) << i;
}

}  // namespace
}  // namespace sy::engine
