#include "engine/limiter.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "engine/loudness.h"
#include "engine/testing/analysis.h"

namespace sy::engine {
namespace {

constexpr double kRate = 44100.0;
constexpr std::size_t kBlock = 1024;

using testing::Stereo;

Stereo mono(std::vector<float> s) {
  Stereo st{s, s};
  return st;
}

// Runs `input` through a fresh limiter in fixed blocks, then flushes latency() frames of
// silence and trims them from the front, so the result lines up with the input.
Stereo run(StereoProcessor& lim, const Stereo& input, std::size_t block = kBlock) {
  lim.prepare(kRate, block);
  const std::size_t lat = lim.latency();
  Stereo padded{input.left, input.right};
  padded.left.resize(input.left.size() + lat, 0.0f);
  padded.right.resize(input.left.size() + lat, 0.0f);
  Stereo out{std::vector<float>(padded.left.size()), std::vector<float>(padded.left.size())};
  const ConstAudioView in({padded.left.data(), padded.right.data()}, padded.left.size());
  const AudioView o({out.left.data(), out.right.data()}, padded.left.size());
  for (std::size_t pos = 0; pos < padded.left.size(); pos += block) {
    const std::size_t n = std::min(block, padded.left.size() - pos);
    lim.process(in.slice(pos, n), o.slice(pos, n));
  }
  out.left.erase(out.left.begin(), out.left.begin() + static_cast<std::ptrdiff_t>(lat));
  out.right.erase(out.right.begin(), out.right.begin() + static_cast<std::ptrdiff_t>(lat));
  return out;
}

// libebur128's, not the limiter's own detector (which LoudnessMeter shares): the ceiling is
// checked by a meter the limiter does not know.
double true_peak_dbtp(const Stereo& s) { return testing::libebur128_true_peak_dbtp(s, static_cast<int>(kRate)); }

std::vector<float> square(double freq, double amplitude, std::size_t frames) {
  std::vector<float> s(frames);
  for (std::size_t n = 0; n < frames; ++n) {
    const double phase = std::fmod(freq * static_cast<double>(n) / kRate, 1.0);
    s[n] = static_cast<float>(phase < 0.5 ? amplitude : -amplitude);
  }
  return s;
}

std::vector<float> sine(double freq, double amplitude, double phase, std::size_t frames) {
  std::vector<float> s(frames);
  for (std::size_t n = 0; n < frames; ++n) {
    s[n] = static_cast<float>(
        amplitude * std::sin(2.0 * std::numbers::pi * freq * static_cast<double>(n) / kRate + phase));
  }
  return s;
}

// Pink noise (Paul Kellet's economy filter on white noise) scaled to the given sample peak.
std::vector<float> pink(std::size_t frames, double peak, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> white(-1.0, 1.0);
  std::vector<double> s(frames);
  double b0 = 0, b1 = 0, b2 = 0;
  double max_abs = 0;
  for (std::size_t n = 0; n < frames; ++n) {
    const double w = white(rng);
    b0 = 0.99765 * b0 + w * 0.0990460;
    b1 = 0.96300 * b1 + w * 0.2965164;
    b2 = 0.57000 * b2 + w * 1.0526913;
    s[n] = b0 + b1 + b2 + w * 0.1848;
    max_abs = std::max(max_abs, std::abs(s[n]));
  }
  std::vector<float> out(frames);
  for (std::size_t n = 0; n < frames; ++n) out[n] = static_cast<float>(s[n] * peak / max_abs);
  return out;
}

class LimiterCeilingTest : public ::testing::TestWithParam<double> {};

TEST_P(LimiterCeilingTest, FullScaleSquareStaysUnderTheCeiling) {
  const double ceiling = GetParam();
  for (double freq : {100.0, 1000.0, 5000.0}) {
    auto lim = make_true_peak_limiter(ceiling);
    const Stereo in = mono(square(freq, 1.0, 3 * static_cast<std::size_t>(kRate)));
    EXPECT_GT(true_peak_dbtp(in), 0.0) << "the square must overshoot between samples";
    EXPECT_LE(true_peak_dbtp(run(*lim, in)), ceiling) << freq << " Hz";
  }
}

TEST_P(LimiterCeilingTest, PinkNoiseTwelveDecibelsOverFullScaleStaysUnderTheCeiling) {
  const double ceiling = GetParam();
  const std::size_t frames = 10 * static_cast<std::size_t>(kRate);
  const double over = std::pow(10.0, 12.0 / 20.0);
  Stereo in{pink(frames, over, 1), pink(frames, over, 2)};
  auto lim = make_true_peak_limiter(ceiling);
  const Stereo out = run(*lim, in);
  const double tp = true_peak_dbtp(out);
  EXPECT_LE(tp, ceiling);
  EXPECT_GT(tp, ceiling - 1.0) << "limiting far below the ceiling wastes loudness";
  for (std::size_t i = 0; i < out.left.size(); ++i) ASSERT_TRUE(std::isfinite(out.left[i]));
}

TEST_P(LimiterCeilingTest, FullBandWhiteNoiseStaysUnderTheCeiling) {
  // The hardest case for matching libebur128: most energy near Nyquist, where two
  // different interpolators disagree the most.
  const double ceiling = GetParam();
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> white(-2.0f, 2.0f);
  Stereo in{std::vector<float>(5 * static_cast<std::size_t>(kRate)), {}};
  for (float& v : in.left) v = white(rng);
  in.right = in.left;
  auto lim = make_true_peak_limiter(ceiling);
  EXPECT_LE(true_peak_dbtp(run(*lim, in)), ceiling);
}

TEST_P(LimiterCeilingTest, IntersamplePeaksOfQuarterRateSineAreCaught) {
  const double ceiling = GetParam();
  // Samples sit at 45 degrees, so they show 3 dB less than the true peak. Put the samples
  // right under the ceiling: a sample-peak limiter would pass it untouched.
  const double amplitude = std::pow(10.0, (ceiling + 3.0 - 0.05) / 20.0);
  const Stereo in = mono(sine(kRate / 4.0, amplitude, std::numbers::pi / 4.0, 2 * static_cast<std::size_t>(kRate)));
  EXPECT_GT(true_peak_dbtp(in), ceiling + 2.0);
  auto lim = make_true_peak_limiter(ceiling);
  const double tp = true_peak_dbtp(run(*lim, in));
  EXPECT_LE(tp, ceiling);
  EXPECT_GT(tp, ceiling - 0.6);
}

TEST_P(LimiterCeilingTest, SuddenBurstsAfterSilenceAreCaught) {
  const double ceiling = GetParam();
  // Silence, then a loud burst of high-frequency content: the attack must already be
  // down when the first sample arrives.
  std::vector<float> s(static_cast<std::size_t>(kRate), 0.0f);
  const auto burst = sine(7000.0, 3.0, 0.3, 2000);
  for (std::size_t k = 0; k < 4; ++k) {
    std::copy(burst.begin(), burst.end(), s.begin() + static_cast<std::ptrdiff_t>(5000 + k * 9000));
  }
  auto lim = make_true_peak_limiter(ceiling);
  EXPECT_LE(true_peak_dbtp(run(*lim, mono(s))), ceiling);
}

INSTANTIATE_TEST_SUITE_P(Ceilings, LimiterCeilingTest, ::testing::Values(-1.0, -0.1, -3.0));

TEST(LimiterTest, TransparentBelowTheCeiling) {
  auto lim = make_true_peak_limiter(-1.0);
  const std::size_t frames = 2 * static_cast<std::size_t>(kRate);
  Stereo in{sine(440.0, 0.5, 0.0, frames), pink(frames, 0.6, 7)};
  const Stereo out = run(*lim, in, 333);
  for (std::size_t i = 0; i < frames; ++i) {
    ASSERT_NEAR(out.left[i], in.left[i], 1e-6) << i;
    ASSERT_NEAR(out.right[i], in.right[i], 1e-6) << i;
  }
}

TEST(LimiterTest, LatencyIsExactAndWithinLookAheadRange) {
  auto lim = make_true_peak_limiter(-1.0);
  lim->prepare(kRate, kBlock);
  const std::size_t lat = lim->latency();
  EXPECT_GE(static_cast<double>(lat), 0.0015 * kRate);
  EXPECT_LE(static_cast<double>(lat), 0.005 * kRate);
  for (float amplitude : {0.5f, 4.0f}) {
    std::vector<float> click(8192, 0.0f);
    click[1000] = amplitude;
    lim->reset();
    std::vector<float> out_l(click.size()), out_r(click.size());
    lim->process(ConstAudioView({click.data(), click.data()}, click.size()),
                 AudioView({out_l.data(), out_r.data()}, click.size()));
    const auto peak = std::max_element(out_l.begin(), out_l.end(),
                                       [](float a, float b) { return std::abs(a) < std::abs(b); });
    EXPECT_EQ(static_cast<std::size_t>(peak - out_l.begin()), 1000 + lat) << amplitude;
    if (amplitude < 1.0f) EXPECT_EQ(*peak, amplitude);
    else EXPECT_LT(*peak, 1.0f);
  }
}

TEST(LimiterTest, ReleasesWithinAFewHundredMilliseconds) {
  auto lim = make_true_peak_limiter(-1.0);
  const std::size_t frames = 2 * static_cast<std::size_t>(kRate);
  auto s = sine(1000.0, 0.3, 0.0, frames);
  for (std::size_t n = 10000; n < 12000; ++n) s[n] *= 10.0f;  // a 12 dB over burst
  const Stereo out = run(*lim, mono(s));
  auto* limiter = dynamic_cast<TruePeakLimiter*>(lim.get());
  ASSERT_NE(limiter, nullptr);
  EXPECT_LT(limiter->min_gain(), 0.35f);
  // 500 ms after the burst the gain is back within 0.1 dB.
  const std::size_t after = 12000 + static_cast<std::size_t>(0.5 * kRate);
  float peak_in = 0, peak_out = 0;
  for (std::size_t n = after; n < after + 441; ++n) {
    peak_in = std::max(peak_in, std::abs(s[n]));
    peak_out = std::max(peak_out, std::abs(out.left[n]));
  }
  EXPECT_GT(20.0 * std::log10(static_cast<double>(peak_out / peak_in)), -0.1);
  // And it did not release instantly either (that would distort): 20 ms after, still down.
  const std::size_t soon = 12000 + static_cast<std::size_t>(0.02 * kRate);
  EXPECT_LT(std::abs(out.left[soon]) / std::max(1e-6f, std::abs(s[soon])) , 0.9f);
}

TEST(LimiterTest, BlockSizeDoesNotChangeTheOutput) {
  const std::size_t frames = static_cast<std::size_t>(kRate);
  Stereo in{pink(frames, 3.0, 11), pink(frames, 3.0, 12)};
  auto a = make_true_peak_limiter(-1.0);
  auto b = make_true_peak_limiter(-1.0);
  const Stereo out_a = run(*a, in, 4096);
  const Stereo out_b = run(*b, in, 17);
  for (std::size_t i = 0; i < frames; ++i) ASSERT_EQ(out_a.left[i], out_b.left[i]) << i;
}

}  // namespace
}  // namespace sy::engine
