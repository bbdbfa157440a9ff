#include "engine/crossover.h"

#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

namespace sy::engine {
namespace {

constexpr double kRate = 44100.0;
constexpr double kCutoff = 150.0;
constexpr std::size_t kLength = 1 << 16;  // the 150 Hz split has decayed far below 1e-9 by then

struct Responses {
  std::vector<float> low, high, sum;
};

Responses impulse_responses(double cutoff) {
  LinkwitzRiley4 xo;
  xo.prepare(kRate, cutoff);
  std::vector<float> in(kLength, 0.0f);
  in[0] = 1.0f;
  Responses r{std::vector<float>(kLength), std::vector<float>(kLength), std::vector<float>(kLength)};
  // Process in uneven blocks to prove the state carries across calls.
  std::size_t pos = 0;
  for (std::size_t block = 1; pos < kLength; block = block * 3 % 997 + 1) {
    const std::size_t n = std::min(block, kLength - pos);
    xo.process(std::span(in).subspan(pos, n), std::span(r.low).subspan(pos, n), std::span(r.high).subspan(pos, n));
    pos += n;
  }
  for (std::size_t i = 0; i < kLength; ++i) r.sum[i] = r.low[i] + r.high[i];
  return r;
}

// Magnitude in dB of the DFT of `h` at `freq`.
double gain_db(const std::vector<float>& h, double freq) {
  const double w = 2.0 * std::numbers::pi * freq / kRate;
  std::complex<double> acc = 0;
  for (std::size_t n = 0; n < h.size(); ++n) {
    acc += static_cast<double>(h[n]) * std::polar(1.0, -w * static_cast<double>(n));
  }
  return 20.0 * std::log10(std::abs(acc));
}

TEST(CrossoverTest, SumIsFlatFrom20HzTo20kHz) {
  const Responses r = impulse_responses(kCutoff);
  double worst = 0;
  for (double f = 20.0; f <= 20000.0; f *= std::pow(2.0, 1.0 / 6.0)) {
    worst = std::max(worst, std::abs(gain_db(r.sum, f)));
  }
  EXPECT_LT(worst, 0.1) << "worst deviation " << worst << " dB";
}

TEST(CrossoverTest, EachBandIsMinus6dBAtTheCutoff) {
  for (double cutoff : {40.0, 150.0, 500.0}) {
    const Responses r = impulse_responses(cutoff);
    EXPECT_NEAR(gain_db(r.low, cutoff), -6.02, 0.1) << cutoff;
    EXPECT_NEAR(gain_db(r.high, cutoff), -6.02, 0.1) << cutoff;
  }
}

TEST(CrossoverTest, SlopesAre24dBPerOctave) {
  const Responses r = impulse_responses(kCutoff);
  // Far from the cutoff each band falls by 4 x 6 dB per octave.
  const double low_slope = gain_db(r.low, 8 * kCutoff) - gain_db(r.low, 16 * kCutoff);
  const double high_slope = gain_db(r.high, kCutoff / 16) - gain_db(r.high, kCutoff / 32);
  EXPECT_NEAR(low_slope, 24.0, 1.0);
  EXPECT_NEAR(high_slope, 24.0, 1.0);
  EXPECT_NEAR(gain_db(r.low, 20.0), 0.0, 0.05);
  EXPECT_NEAR(gain_db(r.high, 10000.0), 0.0, 0.05);
}

TEST(CrossoverTest, ResetClearsState) {
  LinkwitzRiley4 xo;
  xo.prepare(kRate, kCutoff);
  std::vector<float> loud(4096, 0.9f), low(4096), high(4096);
  xo.process(loud, low, high);
  xo.reset();
  std::vector<float> silence(64, 0.0f);
  xo.process(silence, std::span(low).first(silence.size()), std::span(high).first(silence.size()));
  for (std::size_t i = 0; i < silence.size(); ++i) {
    EXPECT_EQ(low[i], 0.0f);
    EXPECT_EQ(high[i], 0.0f);
  }
}

TEST(CrossoverTest, StereoSplitMatchesTwoMonoSplitsExactly) {
  std::vector<float> left(20000), right(20000);
  for (std::size_t i = 0; i < left.size(); ++i) {
    left[i] = static_cast<float>(std::sin(0.01 * static_cast<double>(i)) + 0.3 * std::sin(1.3 * static_cast<double>(i)));
    right[i] = static_cast<float>(std::cos(0.003 * static_cast<double>(i * i % 7919)));
  }
  LinkwitzRiley4 mono[2];
  StereoLinkwitzRiley4 stereo;
  for (auto& m : mono) m.prepare(kRate, 40.0);
  stereo.prepare(kRate, 40.0);
  std::vector<float> low[2] = {std::vector<float>(left.size()), std::vector<float>(left.size())};
  std::vector<float> high[2] = {low[0], low[0]};
  mono[0].process(left, low[0], high[0]);
  mono[1].process(right, low[1], high[1]);
  // In place and in uneven blocks.
  std::size_t pos = 0;
  for (std::size_t block = 1; pos < left.size(); block = block * 5 % 613 + 1) {
    const std::size_t n = std::min(block, left.size() - pos);
    std::vector<float> hl(n);
    std::vector<float> hr(n);
    const AudioView in_place = AudioView({left.data(), right.data()}, left.size()).slice(pos, n);
    stereo.process(in_place, in_place, AudioView({hl.data(), hr.data()}, n));
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(left[pos + i], low[0][pos + i]) << pos + i;
      ASSERT_EQ(right[pos + i], low[1][pos + i]) << pos + i;
      ASSERT_EQ(hl[i], high[0][pos + i]) << pos + i;
      ASSERT_EQ(hr[i], high[1][pos + i]) << pos + i;
    }
    pos += n;
  }
}

// The renderer's input stage: the mid's bass, and above it the mid plus the side through
// the highpass and the side equaliser, exactly as the sections one after another (the
// SIMD lanes only reorder them), in place and in uneven blocks; without a split the mid
// passes untouched.
TEST(CrossoverTest, MidSideSplitMatchesTheSectionsInTurn) {
  Biquad shelf;  // a first-order low shelf and a peaking section, as fit_side_equaliser makes
  shelf.b0 = 1.02;
  shelf.b1 = -0.97;
  shelf.a1 = -0.99;
  Biquad peak;
  peak.b0 = 1.05;
  peak.b1 = -1.6;
  peak.b2 = 0.7;
  peak.a1 = -1.6;
  peak.a2 = 0.75;
  for (const std::size_t sections : {0u, 1u, 2u, 3u, 6u, 10u}) {
    for (const double cutoff : {0.0, 150.0}) {
      std::vector<Biquad> side_eq;
      for (std::size_t s = 0; s < sections; ++s) side_eq.push_back(s % 2 ? peak : shelf);
      std::vector<float> left(12000), right(12000);
      for (std::size_t i = 0; i < left.size(); ++i) {
        left[i] = static_cast<float>(std::sin(0.01 * static_cast<double>(i)) + 0.3 * std::sin(1.3 * static_cast<double>(i)));
        right[i] = static_cast<float>(std::cos(0.003 * static_cast<double>(i * i % 7919)));
      }
      // The reference: the sections one after another (150 Hz Butterworth, as crossover.cc).
      Biquad low[2], high[2];
      const double k = std::tan(std::numbers::pi * 150.0 / kRate), k2 = k * k;
      const double norm = 1.0 / (1.0 + std::numbers::sqrt2 * k + k2);
      for (int s = 0; s < 2; ++s) {
        low[s] = Biquad{k2 * norm, 2 * k2 * norm, k2 * norm, 2 * (k2 - 1) * norm, (1 - std::numbers::sqrt2 * k + k2) * norm};
        high[s] = Biquad{norm, -2 * norm, norm, 2 * (k2 - 1) * norm, (1 - std::numbers::sqrt2 * k + k2) * norm};
      }
      Biquad side_high[2] = {high[0], high[1]};
      std::vector<Biquad> eq = side_eq;
      std::vector<float> want_low(left.size()), want_l(left.size()), want_r(left.size());
      for (std::size_t i = 0; i < left.size(); ++i) {
        double mid = 0.5 * (double{left[i]} + double{right[i]});
        double side = 0.5 * (double{left[i]} - double{right[i]});
        if (cutoff > 0) {
          want_low[i] = static_cast<float>(2.0 * low[1].tick(low[0].tick(mid)));
          mid = high[1].tick(high[0].tick(mid));
          side = side_high[1].tick(side_high[0].tick(side));
        }
        for (Biquad& f : eq) side = f.tick(side);
        want_l[i] = static_cast<float>(mid + side);
        want_r[i] = static_cast<float>(mid - side);
      }
      MidSideCrossover split;
      split.prepare(kRate, cutoff, side_eq);
      std::vector<float> bass(left.size());
      std::size_t pos = 0;
      for (std::size_t block = 1; pos < left.size(); block = block * 5 % 613 + 1) {
        const std::size_t n = std::min(block, left.size() - pos);
        const AudioView in_place = AudioView({left.data(), right.data()}, left.size()).slice(pos, n);
        split.process(in_place, std::span(bass).subspan(pos, n), in_place);
        pos += n;
      }
      for (std::size_t i = 0; i < left.size(); ++i) {
        ASSERT_EQ(left[i], want_l[i]) << sections << " sections, cutoff " << cutoff << ", frame " << i;
        ASSERT_EQ(right[i], want_r[i]) << sections << " sections, cutoff " << cutoff << ", frame " << i;
        if (cutoff > 0) {
          ASSERT_EQ(bass[i], want_low[i]) << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace sy::engine
