#include "engine/true_peak.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

#include "engine/testing/analysis.h"

namespace sy::engine {
namespace {

constexpr int kRate = 48000;

double db(double linear) { return 20.0 * std::log10(linear); }

float measure(const std::vector<float>& left, const std::vector<float>& right, std::size_t block) {
  TruePeakMeter meter;
  const ConstAudioView all({left.data(), right.data()}, left.size());
  for (std::size_t pos = 0; pos < left.size(); pos += block) meter.add(all.slice(pos, std::min(block, left.size() - pos)));
  return meter.peak();
}

// Every sample and every interpolated point of the interpolator, one at a time: the
// meter's chunks, the FIR it skips and the end it finishes with silence must come to this.
float every_point(const std::vector<float>& x) {
  using I = TruePeakInterpolator;
  const auto& ip = true_peak_interpolator();
  const auto n = static_cast<std::ptrdiff_t>(x.size());
  auto at = [&](std::ptrdiff_t i) { return i >= 0 && i < n ? x[static_cast<std::size_t>(i)] : 0.0f; };
  float peak = 0;
  for (std::ptrdiff_t m = -static_cast<std::ptrdiff_t>(I::kHalfTaps); m < n; ++m) {
    peak = std::max(peak, std::abs(at(m)));
    for (const auto& phase : ip.phases) {
      float acc = 0;
      for (std::size_t j = 0; j < I::kTaps; ++j)
        acc += phase[j] * at(m - static_cast<std::ptrdiff_t>(I::kHalfTaps) + 1 + static_cast<std::ptrdiff_t>(j));
      peak = std::max(peak, std::abs(acc));
    }
  }
  return peak;
}

// A sine that fades in and out over 10 ms: an abrupt start or end rings over its amplitude.
std::vector<float> sine(double hz, double amplitude, double phase, std::size_t frames) {
  std::vector<float> s(frames);
  const double fade = 0.01 * kRate;
  for (std::size_t n = 0; n < frames; ++n) {
    const double t = static_cast<double>(n);
    const double edge = std::min(t, static_cast<double>(frames - 1 - n));
    const double g = edge < fade ? 0.5 * (1 - std::cos(std::numbers::pi * edge / fade)) : 1.0;
    s[n] = static_cast<float>(g * amplitude * std::sin(2 * std::numbers::pi * hz * t / kRate + phase));
  }
  return s;
}

TEST(TruePeakMeterTest, QuarterRateSineReadsItsAmplitudeNotItsSamples) {
  // Sampled at 45 degrees, the samples reach only 0.707 of the amplitude (-3 dB).
  const std::vector<float> s = sine(kRate / 4.0, 0.5, std::numbers::pi / 4, kRate);
  EXPECT_NEAR(db(measure(s, s, 1024)), db(0.5), 0.05);
}

TEST(TruePeakMeterTest, ChunksSkipsAndTheEndChangeNothing) {
  // Loud first, so later chunks are skipped; then a quiet stretch; then, in the last few
  // samples, an intersample peak louder than everything before it.
  std::vector<float> left = testing::white_noise(3 * kRate, 1, 0.05f), right = testing::white_noise(3 * kRate, 2, 0.05f);
  for (std::size_t n = 0; n < 2000; ++n) left[n] = static_cast<float>(0.6 * std::sin(0.3 * static_cast<double>(n)));
  for (std::size_t k = 0; k < 4; ++k) right[right.size() - 4 + k] = (k % 2 == 0) ? 0.7f : -0.7f;
  const float expected = std::max(every_point(left), every_point(right));
  EXPECT_GT(expected, 0.7f) << "the last samples ring between them";
  for (std::size_t block : {1, 7, 256, 1000, 48000}) EXPECT_FLOAT_EQ(measure(left, right, block), expected) << block;
}

TEST(TruePeakMeterTest, ReadsLikeLibebur128OnMusicLikeSignals) {
  std::vector<std::vector<float>> signals{testing::pink_noise(2 * kRate, 3), testing::pink_noise(2 * kRate, 4)};
  for (double hz : {997.0, 5000.0, 11025.0, 17000.0}) signals.push_back(sine(hz, 0.5, 0.7, kRate / 2));
  for (const auto& s : signals) EXPECT_NEAR(db(measure(s, s, 4096)), testing::libebur128_true_peak_dbtp({s, s}, kRate), 0.1);
  // Full-band white noise is where they part: libebur128's shorter interpolator rolls off
  // below Nyquist and reads lower; this one errs on the side of the ceiling.
  const std::vector<float> white = testing::white_noise(2 * kRate, 5, 0.3f);
  EXPECT_GT(db(measure(white, white, 4096)), testing::libebur128_true_peak_dbtp({white, white}, kRate));
}

}  // namespace
}  // namespace sy::engine

namespace sy::engine {
namespace {

// The vectorised maximum must give exactly what one running std::max gives, at every length
// (the eight-wide body and the tail), with the loudest sample anywhere, and past a NaN.
TEST(LargestMagnitudeTest, EqualsARunningMaximumAtEveryLengthAndPosition) {
  std::vector<float> x(100);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * std::sin(0.37f * static_cast<float>(i));
  auto running = [](const float* p, std::size_t n) {
    float m = 0.0f;
    for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::abs(p[i]));
    return m;
  };
  for (std::size_t n = 0; n <= x.size(); ++n) {
    for (std::size_t at : {std::size_t{0}, n / 2, n > 0 ? n - 1 : 0}) {
      std::vector<float> y(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n));
      if (n > 0) y[at] = -0.9f;  // the loudest, negative
      ASSERT_EQ(largest_magnitude(y.data(), n), running(y.data(), n)) << "n " << n << " at " << at;
    }
  }
  // A NaN in the lane that holds the loudest sample before it, and one in the tail: passed
  // over, not a reset of the lane.
  const float nan = std::nanf("");
  std::vector<float> with_nan(x.begin(), x.begin() + 21);
  with_nan[5] = -0.9f;
  with_nan[13] = nan;
  with_nan[20] = nan;
  EXPECT_EQ(largest_magnitude(with_nan.data(), with_nan.size()), 0.9f);
  EXPECT_EQ(largest_magnitude(with_nan.data(), with_nan.size()), running(with_nan.data(), with_nan.size()));
  const std::vector<float> all_nan(11, nan);
  EXPECT_EQ(largest_magnitude(all_nan.data(), all_nan.size()), 0.0f);
  const std::vector<float> odd = {-0.0f, 0.25f, -std::numeric_limits<float>::infinity(), 0.5f, -0.0f, 0.0f, 0.1f, 0.2f, 0.3f};
  EXPECT_EQ(largest_magnitude(odd.data(), odd.size()), std::numeric_limits<float>::infinity());
  const std::vector<float> zeros = {-0.0f, -0.0f, 0.0f};
  EXPECT_EQ(largest_magnitude(zeros.data(), zeros.size()), 0.0f);
}

}  // namespace
}  // namespace sy::engine
