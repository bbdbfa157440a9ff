#include "engine/hrtf.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "engine/renderer.h"

namespace sy::engine {
namespace {

double energy(const std::vector<float>& x) {
  double e = 0;
  for (float v : x) e += double{v} * double{v};
  return e;
}

std::size_t onset(const std::vector<float>& x) {
  float peak = 0;
  for (float v : x) peak = std::max(peak, std::abs(v));
  for (std::size_t i = 0; i < x.size(); ++i)
    if (std::abs(x[i]) > 0.2f * peak) return i;
  return x.size();
}

TEST(HrtfSetTest, LoadsKemarResampledToTheRequestedRate) {
  HrtfSet at44(kDefaultSofaPath, 44100.0);
  HrtfSet at48(kDefaultSofaPath, 48000.0);
  EXPECT_GT(at44.length(), 100u);
  // Resampling stretches the responses by the ratio of the rates.
  EXPECT_NEAR(static_cast<double>(at48.length()) / static_cast<double>(at44.length()), 48000.0 / 44100.0, 0.01);
}

TEST(HrtfSetTest, LeftSourceIsLouderAndEarlierInTheLeftEar) {
  HrtfSet hrtf(kDefaultSofaPath, 48000.0);
  std::vector<float> l(hrtf.length()), r(hrtf.length());
  hrtf.response(90.0, 0.0, l.data(), r.data());
  EXPECT_GT(10 * std::log10(energy(l) / energy(r)), 10.0);
  const double lag_ms = (static_cast<double>(onset(r)) - static_cast<double>(onset(l))) / 48.0;
  EXPECT_GT(lag_ms, 0.5);
  EXPECT_LT(lag_ms, 1.0);

  hrtf.response(0.0, 0.0, l.data(), r.data());  // straight ahead: both ears alike
  EXPECT_NEAR(10 * std::log10(energy(l) / energy(r)), 0.0, 1.0);
}

TEST(HrtfSetTest, MissingFileThrows) {
  EXPECT_THROW(HrtfSet("/nonexistent/none.sofa", 48000.0), std::runtime_error);
  EXPECT_THROW(make_renderer(EngineSettings{}, "/nonexistent/none.sofa"), std::runtime_error);
}

}  // namespace
}  // namespace sy::engine
