#include "engine/loudness.h"

#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <utility>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "engine/testing/analysis.h"

namespace sy::engine {
namespace {

constexpr int kRate = 48000;

std::vector<float> sine(double freq, double amplitude, double phase, std::size_t frames) {
  std::vector<float> s(frames);
  for (std::size_t n = 0; n < frames; ++n) {
    s[n] = static_cast<float>(amplitude * std::sin(2.0 * std::numbers::pi * freq * static_cast<double>(n) / kRate + phase));
  }
  return s;
}

TEST(LoudnessMeterTest, StereoSineReadsItsLevel) {
  // EBU Tech 3341: a 997 Hz sine at 0 dBFS in both channels reads 0 LUFS.
  for (double level_db : {-23.0, -14.0, -6.0}) {
    const auto s = sine(997.0, std::pow(10.0, level_db / 20.0), 0.0, 10 * kRate);
    LoudnessMeter meter(kRate);
    meter.add(ConstAudioView({s.data(), s.data()}, s.size()));
    EXPECT_NEAR(meter.integrated_lufs(), level_db, 0.1);
    EXPECT_NEAR(meter.short_term_lufs(), level_db, 0.1);
    EXPECT_NEAR(meter.momentary_lufs(), level_db, 0.1);
  }
}

TEST(LoudnessMeterTest, OneChannelIsThreeDecibelsQuieter) {
  const auto s = sine(997.0, 0.5, 0.0, 5 * kRate);
  const std::vector<float> silence(s.size(), 0.0f);
  LoudnessMeter meter(kRate);
  meter.add(ConstAudioView({s.data(), silence.data()}, s.size()));
  EXPECT_NEAR(meter.integrated_lufs(), 20.0 * std::log10(0.5) - 3.01, 0.1);
}

TEST(LoudnessMeterTest, SilenceIsMinusInfinity) {
  const std::vector<float> silence(3 * kRate, 0.0f);
  LoudnessMeter meter(kRate, true);
  meter.add(ConstAudioView({silence.data(), silence.data()}, silence.size()));
  EXPECT_TRUE(std::isinf(meter.integrated_lufs()));
  EXPECT_LT(meter.integrated_lufs(), 0);
  EXPECT_TRUE(std::isinf(meter.true_peak_dbtp()));
}

TEST(LoudnessMeterTest, TruePeakSeesIntersamplePeaks) {
  // A quarter-rate sine sampled at 45 degrees: samples reach only 0.707 of the amplitude.
  const auto s = sine(kRate / 4.0, 0.9, std::numbers::pi / 4.0, kRate);
  float sample_peak = 0;
  for (float v : s) sample_peak = std::max(sample_peak, std::abs(v));
  EXPECT_NEAR(20.0 * std::log10(static_cast<double>(sample_peak)), 20.0 * std::log10(0.9) - 3.01, 0.05);
  LoudnessMeter meter(kRate, true);
  meter.add(ConstAudioView({s.data(), s.data()}, s.size()));
  EXPECT_NEAR(meter.true_peak_dbtp(), 20.0 * std::log10(0.9), 0.3);
}

TEST(LoudnessMeterTest, TruePeakMustBeRequested) {
  LoudnessMeter meter(kRate, false);
  EXPECT_THROW(meter.true_peak_dbtp(), std::logic_error);
}

TEST(LoudnessMeterTest, LoudnessRangeSpansLoudAndQuietParts) {
  // 20 s at -20 dBFS then 20 s at -30: the short-term loudness spends its time at two levels
  // 10 LU apart, so the 10th to 95th percentile range is about 10 LU; a steady tone has none.
  auto loud = sine(997.0, std::pow(10.0, -20.0 / 20.0), 0.0, 20 * kRate);
  const auto quiet = sine(997.0, std::pow(10.0, -30.0 / 20.0), 0.0, 20 * kRate);
  LoudnessMeter steady(kRate, false, true);
  steady.add(ConstAudioView({loud.data(), loud.data()}, loud.size()));
  EXPECT_NEAR(steady.loudness_range_lu(), 0.0, 0.2);
  loud.insert(loud.end(), quiet.begin(), quiet.end());
  LoudnessMeter varied(kRate, false, true);
  varied.add(ConstAudioView({loud.data(), loud.data()}, loud.size()));
  EXPECT_NEAR(varied.loudness_range_lu(), 10.0, 0.5);
  EXPECT_THROW(LoudnessMeter(kRate).loudness_range_lu(), std::logic_error);
}

// Under 16 Hz a 100-ms step holds no whole frame and add() would loop for ever: such a rate
// is refused; at 16 Hz add() still steps through what it is given.
TEST(LoudnessMeterTest, RefusesRatesItCannotStep) {
  for (int rate : {-1, 0, 1, 4, 15, 2822401}) EXPECT_THROW(LoudnessMeter{rate}, std::invalid_argument) << rate;
  LoudnessMeter slow(16);
  const std::vector<float> ones(16 * 10, 0.5f);
  slow.add(ConstAudioView({ones.data(), ones.data()}, ones.size()));
  EXPECT_FALSE(std::isnan(slow.momentary_lufs()));
}

TEST(LoudnessMeterTest, RefusesAnythingButStereo) {
  LoudnessMeter meter(kRate);
  const std::vector<float> a(kRate, 0.5f);
  const float* planes[3] = {a.data(), a.data(), a.data()};
  EXPECT_THROW(meter.add(ConstAudioView(planes, 1, a.size())), std::invalid_argument);
  EXPECT_THROW(meter.add(ConstAudioView(planes, 3, a.size())), std::invalid_argument);
  EXPECT_EQ(meter.integrated_lufs(), -std::numeric_limits<double>::infinity());
}

// Readings move in 100-ms steps unless the meter is asked to keep the frames between them.
TEST(LoudnessMeterTest, ReadingsBetweenStepsAreOptIn) {
  const auto quiet = sine(997.0, 0.05, 0.0, kRate);
  const auto loud = sine(997.0, 0.5, 0.0, kRate / 20);  // 50 ms: half a step
  LoudnessMeter stepped(kRate), exact(kRate, false, false, /*readings_between_steps=*/true);
  for (LoudnessMeter* m : {&stepped, &exact}) m->add(ConstAudioView({quiet.data(), quiet.data()}, quiet.size()));
  const double at_step = stepped.momentary_lufs();
  EXPECT_DOUBLE_EQ(exact.momentary_lufs(), at_step);
  for (LoudnessMeter* m : {&stepped, &exact}) m->add(ConstAudioView({loud.data(), loud.data()}, loud.size()));
  EXPECT_EQ(stepped.momentary_lufs(), at_step);
  EXPECT_GT(exact.momentary_lufs(), at_step + 3);
  // At the next step both read the same again.
  for (LoudnessMeter* m : {&stepped, &exact}) m->add(ConstAudioView({loud.data(), loud.data()}, loud.size()));
  EXPECT_DOUBLE_EQ(stepped.momentary_lufs(), exact.momentary_lufs());
  EXPECT_DOUBLE_EQ(stepped.short_term_lufs(), exact.short_term_lufs());
}

TEST(LoudnessMeterTest, AddAcceptsAnyBlockSize) {
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  std::vector<float> l(4 * kRate), r(4 * kRate);
  for (std::size_t i = 0; i < l.size(); ++i) {
    l[i] = noise(rng);
    r[i] = noise(rng);
  }
  LoudnessMeter whole(kRate), pieces(kRate);
  whole.add(ConstAudioView({l.data(), r.data()}, l.size()));
  for (std::size_t pos = 0, block = 1; pos < l.size(); block = block * 7 % 10007 + 1) {
    const std::size_t n = std::min(block, l.size() - pos);
    pieces.add(ConstAudioView({l.data(), r.data()}, l.size()).slice(pos, n));
    pos += n;
  }
  EXPECT_NEAR(whole.integrated_lufs(), pieces.integrated_lufs(), 1e-9);
}

// The meter against libebur128 (the reference it replaced) on a signal with loud and quiet
// parts, silences and a steep step, at the rates a song comes in: every momentary and
// short-term reading, the integrated loudness and the range.
TEST(LoudnessMeterTest, ReadsAsLibebur128) {
  for (int rate : {22050, 44100, 96000}) {
    SCOPED_TRACE(rate);
    const std::size_t frames = static_cast<std::size_t>(rate) * 32;
    testing::Stereo s{testing::pink_noise(frames, 1), testing::pink_noise(frames, 2)};
    const auto tone = testing::sine(frames, 3000.0, rate, 0.3f);
    for (std::size_t i = 0; i < frames; ++i) {
      const double t = static_cast<double>(i) / rate;
      // A swell over 12 s, 2 s of silence at 20 s, then 10 dB quieter with a tone on the right.
      const float level = t < 20 ? static_cast<float>(0.5 + 0.5 * std::sin(t / 2)) : t < 22 ? 0.0f : 0.3f;
      s.left[i] *= level;
      s.right[i] = s.right[i] * level + (t > 22 ? tone[i] : 0.0f);
    }
    const std::size_t hop = static_cast<std::size_t>(rate) / 10 + 7;  // off the 100 ms steps
    const testing::Libebur128Loudness want = testing::libebur128_loudness(s, rate, hop);
    LoudnessMeter meter(rate, false, true, /*readings_between_steps=*/true);
    for (std::size_t pos = 0, k = 0; pos < frames; pos += hop, ++k) {
      const std::size_t n = std::min(hop, frames - pos);
      meter.add(ConstAudioView({s.left.data(), s.right.data()}, frames).slice(pos, n));
      // Under -70 LUFS (a filter's tail decaying in the silence) a reading counts for nothing.
      for (auto [got, expected] : {std::pair{meter.momentary_lufs(), want.momentary[k]},
                                   std::pair{meter.short_term_lufs(), want.short_term[k]}}) {
        if (expected > -70) ASSERT_NEAR(got, expected, 1e-6) << k;
        else ASSERT_LT(got, -70) << k;
      }
    }
    EXPECT_NEAR(meter.integrated_lufs(), want.integrated_lufs, 1e-6);
    EXPECT_NEAR(meter.loudness_range_lu(), want.loudness_range_lu, 1e-6);
    EXPECT_GT(want.loudness_range_lu, 3.0);
  }
}

}  // namespace
}  // namespace sy::engine
