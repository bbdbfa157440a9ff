#include "engine/binaural_design.h"

#include <algorithm>
#include <stdexcept>
#include <cmath>
#include <cstdio>
#include <complex>
#include <numbers>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "engine/binaural_decoder.h"
#include "engine/design/loudness_fit.h"
#include "engine/hrtf.h"
#include "engine/renderer.h"

namespace sy::engine {
namespace {

constexpr double kPi = std::numbers::pi;

// A source decoded through the fixed filters behaves like the measured head: louder in
// the near ear, and unit gain where the centred bass takes over.
TEST(BinauralDesignTest, DecoderPutsASourceOnTheRightSide) {
  HrtfSet hrtf(kDefaultSofaPath, 48000.0);
  for (AmbisonicBasis basis : {AmbisonicBasis::kHorizontal, AmbisonicBasis::kSphere}) {
    BinauralDecoderDesign design;
    design.basis = basis;
    const BinauralFilters filters = design_binaural_filters(hrtf, design);
    const std::size_t k = ambisonic_channels(basis);
    ASSERT_EQ(filters.channel_filters.size(), k);
    EXPECT_LE(filters.channel_filters[0].size(), hrtf.length());
    EXPECT_LT(filters.low_frequency_delay, 64u);

    constexpr std::size_t kBlock = 256;
    BinauralDecoder decoder(filters, kBlock);
    std::vector<float> g(k);
    ambisonic_gains(basis, kPi / 2, 0.0, g.data());  // hard left
    std::vector<std::vector<float>> sh(k, std::vector<float>(kBlock, 0.0f));
    for (std::size_t c = 0; c < k; ++c) sh[c][0] = g[c];  // an impulse from the left
    std::vector<const float*> planes;
    for (auto& c : sh) planes.push_back(c.data());
    const ConstAudioView in(planes.data(), planes.size(), kBlock);
    std::vector<float> l(kBlock * 4), r(kBlock * 4);
    const AudioView ears({l.data(), r.data()}, l.size());
    decoder.process(in, ears.first(kBlock));
    for (auto& c : sh) std::fill(c.begin(), c.end(), 0.0f);
    for (std::size_t b = 1; b < 4; ++b) decoder.process(in, ears.slice(b * kBlock, kBlock));
    double el = 0, er = 0;
    for (std::size_t i = 0; i < l.size(); ++i) {
      el += double{l[i]} * double{l[i]};
      er += double{r[i]} * double{r[i]};
    }
    EXPECT_GT(10 * std::log10(el / er), 8.0) << "basis " << static_cast<int>(basis);
    // Low-frequency gain of the omni filter is one (the decoder's level match).
    std::complex<double> h300 = 0;
    for (std::size_t i = 0; i < filters.channel_filters[0].size(); ++i)
      h300 += double{filters.channel_filters[0][i]} * std::polar(1.0, -2 * kPi * 300.0 / 48000.0 * static_cast<double>(i));
    EXPECT_NEAR(std::abs(h300), 1.0, 0.25);
  }
}

// Power response averaged over a circle of sources, per third octave, in dB.
std::vector<double> circle_average_db(const BinauralFilters& f, const std::vector<double>& bands) {
  const std::size_t k = f.channel_filters.size();
  std::vector<double> out;
  std::vector<float> g(k);
  for (double hz : bands) {
    std::vector<std::complex<double>> h(k);
    for (std::size_t c = 0; c < k; ++c)
      for (std::size_t n = 0; n < f.channel_filters[c].size(); ++n)
        h[c] += double{f.channel_filters[c][n]} * std::polar(1.0, -2 * kPi * hz / 48000.0 * static_cast<double>(n));
    double p = 0;
    for (int a = 0; a < 72; ++a) {
      // What the renderer plays for a mono input: the pair of sources 60 degrees apart, each
      // with half the signal, and the loudness correction for their centre.
      const double centre = 2 * kPi * a / 72.0, half_width = kPi / 6.0;
      ambisonic_gains(f.basis, centre, 0.0, g.data());
      double correction = 0;
      for (std::size_t c = 0; c < k; ++c) correction += double{f.loudness_correction[c]} * double{g[c]};
      std::vector<float> other(k);
      ambisonic_gains(f.basis, centre + half_width, 0.0, g.data());
      ambisonic_gains(f.basis, centre - half_width, 0.0, other.data());
      for (std::size_t c = 0; c < k; ++c) g[c] = static_cast<float>(0.5 * correction * (double{g[c]} + double{other[c]}));
      std::complex<double> even = 0, odd = 0;
      for (std::size_t c = 0; c < k; ++c) (ambisonic_channel_is_odd(f.basis, c) ? odd : even) += double{g[c]} * h[c];
      p += std::norm(even + odd) + std::norm(even - odd);
    }
    out.push_back(10 * std::log10(p / 144.0));
  }
  return out;
}

// The dummy head's ear-canal resonance would be heard twice on headphones; the
// diffuse-field equalisation takes it out of the average while the cues stay.
// The side gain's lowest and highest value over a dense grid of directions.
std::pair<double, double> curve_range(AmbisonicBasis basis, const std::vector<float>& c) {
  std::vector<float> g(ambisonic_channels(basis));
  double lo = 1e300, hi = -1e300;
  for (const Bearing& d : layout_for(basis, 7200, 40000)) {
    ambisonic_gains(basis, d.azimuth, d.elevation, g.data());
    double v = 0;
    for (std::size_t k = 0; k < g.size(); ++k) v += double{c[k]} * double{g[k]};
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  return {lo, hi};
}

// A fitted curve that dips below zero would flip the side's polarity in those directions:
// hold_within shrinks its swing about the mean, shape kept, to the bounds.
TEST(LoudnessFitTest, HoldWithinKeepsTheCurveInBoundsAndItsShape) {
  for (AmbisonicBasis basis : {AmbisonicBasis::kHorizontal, AmbisonicBasis::kSphere}) {
    std::vector<float> c(ambisonic_channels(basis), 0.0f);
    c[0] = 1.0f;
    c[1] = 2.0f;
    c[c.size() - 1] = 0.5f;
    const auto [lo0, hi0] = curve_range(basis, c);
    ASSERT_LT(lo0, 0.0);
    const std::vector<float> before = c;
    hold_within(basis, c, kMinSideGain, kMaxSideGain);
    const auto [lo, hi] = curve_range(basis, c);
    EXPECT_GE(lo, kMinSideGain - 1e-3);
    EXPECT_NEAR(lo, kMinSideGain, 0.01);  // no more shrunk than needed
    EXPECT_LE(hi, kMaxSideGain);
    EXPECT_EQ(c[0], before[0]);
    EXPECT_NEAR(c[1] / before[1], c.back() / before.back(), 1e-6);
    // Already within: untouched.
    const std::vector<float> held = c;
    hold_within(basis, c, kMinSideGain, kMaxSideGain);
    EXPECT_EQ(c, held);
  }
  std::vector<float> off_centre(7, 0.0f);
  off_centre[0] = 5.0f;
  EXPECT_THROW(hold_within(AmbisonicBasis::kHorizontal, off_centre, kMinSideGain, kMaxSideGain), std::runtime_error);
}

TEST(LoudnessFitTest, ShippedSideGainStaysPositiveEverywhere) {
  HrtfSet hrtf(kDefaultSofaPath, 48000.0);
  BinauralDecoderDesign design;
  const BinauralFilters filters = design_binaural_filters(hrtf, design);
  ASSERT_EQ(filters.side_gain.size(), filters.channel_filters.size());
  const auto [lo, hi] = curve_range(filters.basis, filters.side_gain);
  EXPECT_GE(lo, kMinSideGain - 1e-3);
  EXPECT_LE(hi, kMaxSideGain + 1e-3);
}

TEST(BinauralDesignTest, DiffuseFieldEqualisationFlattensTheAverage) {
  HrtfSet hrtf(kDefaultSofaPath, 48000.0);
  std::vector<double> bands;
  for (double hz = 200; hz <= 16100; hz *= std::pow(2.0, 1.0 / 3.0)) bands.push_back(hz);
  BinauralDecoderDesign design;
  design.diffuse_field_eq = false;
  const auto raw = circle_average_db(design_binaural_filters(hrtf, design), bands);
  design.diffuse_field_eq = true;
  const auto eq = circle_average_db(design_binaural_filters(hrtf, design), bands);
  auto spread = [](const std::vector<double>& v) {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return *hi - *lo;
  };
  std::printf("circle-average response 200 Hz-16 kHz spans %.1f dB raw, %.1f dB equalised\n", spread(raw), spread(eq));
  EXPECT_GT(spread(raw), 12.0);  // the resonance is really there
  EXPECT_LT(spread(eq), 3.0);
}

}  // namespace
}  // namespace sy::engine
