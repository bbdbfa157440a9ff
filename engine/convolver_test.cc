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

// One filter of the matrix: input `in` convolved with `h` adds into output `out`.
struct Path {
  std::size_t out, in;
  std::vector<float> h;
};

void set_paths(PartitionedConvolver& conv, const std::vector<Path>& paths) {
  for (const Path& p : paths) conv.set_filter(p.out, p.in, p.h);
}

// What each output should be: the sum of its paths' direct convolutions.
std::vector<std::vector<double>> direct_matrix(const std::vector<std::vector<float>>& inputs,
                                               const std::vector<Path>& paths, std::size_t num_outputs) {
  std::vector<std::vector<double>> want(num_outputs, std::vector<double>(inputs[0].size(), 0.0));
  for (const Path& p : paths) {
    const auto part = direct_convolution(inputs[p.in], p.h);
    for (std::size_t i = 0; i < part.size(); ++i) want[p.out][i] += part[i];
  }
  return want;
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
  const std::vector<Path> paths = {{0, 0, noise(500, 1)}, {0, 2, noise(129, 2)}, {1, 1, noise(256, 3)}};
  set_paths(conv, paths);
  const std::vector<std::vector<float>> x = {noise(128 * 20, 10), noise(128 * 20, 11),
                                             noise(128 * 20, 12)};
  const auto y = run(conv, x);
  const auto want = direct_matrix(x, paths, 2);
  EXPECT_LT(max_abs_error(y[0], want[0]), 1e-3);
  EXPECT_LT(max_abs_error(y[1], want[1]), 1e-3);
  // The error bound above is loose; the signals themselves are of order 10.
  EXPECT_GT(std::abs(want[0][1000]) + std::abs(want[0][2000]), 0.1);
}

// Each input's two blocks sit in one buffer in either order (the spectrum's sign fixed up
// every other block), at padded offsets: an odd block size and several inputs check both.
TEST(PartitionedConvolverTest, OddBlockSizeWithSeveralInputs) {
  PartitionedConvolver conv(37, 3, 1);
  const std::vector<Path> paths = {{0, 0, noise(90, 21)}, {0, 1, noise(37, 22)}, {0, 2, noise(5, 23)}};
  set_paths(conv, paths);
  const std::vector<std::vector<float>> x = {noise(37 * 30, 24), noise(37 * 30, 25), noise(37 * 30, 26)};
  const auto y = run(conv, x);
  EXPECT_LT(max_abs_error(y[0], direct_matrix(x, paths, 1)[0]), 1e-4);
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
