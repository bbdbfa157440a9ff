// The engine-level proofs of the 8D issue: it circles (level and time differences follow
// the rotation), front and back differ, no zipper noise at any block size, no level dip,
// and the output lines up with the input after trimming latency().
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <gtest/gtest.h>

#include "engine/filter_cache.h"
#include "engine/renderer.h"
#include "engine/testing/analysis.h"

namespace sy::engine {
namespace {

constexpr double kRate = 48000.0;
constexpr auto kRateInt = static_cast<int>(kRate);

// Renders in one test share their designs, as a worker's do.
BinauralFilterCache& shared_filters() {
  static BinauralFilterCache cache;
  return cache;
}

EngineSettings classic_dry() {
  EngineSettings s;  // the classic preset's motion: circle, 8 s, clockwise, 60 degrees wide
  s.period_seconds = 8.0;
  s.reverb = 0.0;
  return s;
}

testing::Stereo render_with(const EngineSettings& settings, const std::vector<float>& l,
                            const std::vector<float>& r, std::size_t block) {
  auto renderer = make_renderer(settings, kDefaultSofaPath, &shared_filters());
  renderer->prepare(kRate, 4096);
  return testing::render(*renderer, l, r, block);
}

double max_minus_min(const std::vector<double>& v) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return *hi - *lo;
}

// Median over a few neighbours: the cross-correlation of noise jitters a little.
std::vector<double> median5(const std::vector<double>& v) {
  std::vector<double> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::vector<double> w;
    for (std::size_t j = i >= 2 ? i - 2 : 0; j < std::min(v.size(), i + 3); ++j) w.push_back(v[j]);
    std::nth_element(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(w.size() / 2), w.end());
    out[i] = w[w.size() / 2];
  }
  return out;
}

// Short-term loudness (LU) from 3.5 s, when its 3 s window is full, over one 8 s revolution:
// its highest minus its lowest.
//
// Issue 15 asks for a level that stays flat over a revolution; the source encoder's side
// gain holds it to 0.11 LU for centred noise, 0.31 LU for uncorrelated stereo and 0.10 LU
// with the room on (0.76, 0.97 and 0.77 LU before it, with the loudness correction fitted
// to mono and stereo together). The limits keep about half a decibel of margin and fail
// that older design.
constexpr double kCentredSpreadLu = 0.6;
constexpr double kWideStereoSpreadLu = 0.8;
double loudness_spread_over_a_revolution(const testing::Stereo& out) {
  const auto st = testing::short_term_loudness(out, kRateInt, 4800);
  return max_minus_min(std::vector<double>(st.begin() + 35, st.begin() + 35 + 80));
}

// Zero crossings of the ILD (smoothed over 110 ms), in seconds; crossings closer than a
// second (the level difference can hover around zero behind the head) merge into one.
std::vector<double> ild_zero_crossings_seconds(const testing::Stereo& s, std::size_t hop) {
  const auto smooth = testing::moving_average(testing::ild_series_db(s, 4800, hop), 5);
  std::vector<double> crossings, cluster;
  auto flush = [&] {
    if (cluster.empty()) return;
    const double mean = std::accumulate(cluster.begin(), cluster.end(), 0.0) / static_cast<double>(cluster.size());
    crossings.push_back((mean * static_cast<double>(hop) + 2400) / kRate);  // window centre
    cluster.clear();
  };
  for (double c : testing::zero_crossings(smooth)) {
    if (!cluster.empty() && (c - cluster.back()) * static_cast<double>(hop) / kRate > 1.0) flush();
    cluster.push_back(c);
  }
  flush();
  return crossings;
}

class SpatialAcceptance : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    noise_ = new std::vector<float>(testing::pink_noise(static_cast<std::size_t>(3 * 8 * kRate), 42));
    circled_ = new testing::Stereo(render_with(classic_dry(), *noise_, *noise_, 1024));
  }
  static void TearDownTestSuite() {
    delete noise_;
    delete circled_;
  }
  static std::vector<float>* noise_;
  static testing::Stereo* circled_;
};
std::vector<float>* SpatialAcceptance::noise_ = nullptr;
testing::Stereo* SpatialAcceptance::circled_ = nullptr;

TEST_F(SpatialAcceptance, LevelDifferenceCirclesWithThePeriod) {
  constexpr std::size_t kHop = 480;  // 10 ms
  const auto ild = testing::ild_series_db(*circled_, 2400, kHop);
  const double period = testing::dominant_period_seconds(ild, kHop / kRate, 2.0, 20.0);
  // Second estimate: front and back crossings alternate, so a period spans two intervals.
  const auto crossings = ild_zero_crossings_seconds(*circled_, kHop);
  ASSERT_GE(crossings.size(), 3u);
  const double from_crossings =
      2.0 * (crossings.back() - crossings.front()) / static_cast<double>(crossings.size() - 1);
  std::printf("ILD period %.3f s from its spectrum, %.3f s from its zero crossings (expected 8), range %.1f dB\n",
              period, from_crossings, max_minus_min(ild));
  EXPECT_NEAR(period, 8.0, 8.0 * 0.03);
  EXPECT_NEAR(from_crossings, 8.0, 8.0 * 0.03);
  EXPECT_GT(max_minus_min(ild), 10.0);
}

TEST_F(SpatialAcceptance, TimeDifferenceSwingsAndAmplitudePanningDoesNot) {
  constexpr std::size_t kHop = 1200;
  // One full revolution, skipping the first second.
  testing::Stereo one;
  const auto begin = static_cast<std::ptrdiff_t>(kRate), end = static_cast<std::ptrdiff_t>(9 * kRate);
  one.left.assign(circled_->left.begin() + begin, circled_->left.begin() + end);
  one.right.assign(circled_->right.begin() + begin, circled_->right.begin() + end);
  const auto itd = median5(testing::itd_series_ms(one, kRate, 2400, kHop));
  const double swing = max_minus_min(itd);

  // The same path with an equal-power amplitude panner: the control the issue names.
  testing::Stereo panned;
  for (std::size_t i = 0; i < one.left.size(); ++i) {
    const double t = static_cast<double>(i) / kRate + 1.0;
    const double pan = 0.5 * (1.0 + std::sin(-2 * 3.14159265358979 * t / 8.0));  // 1 = left
    panned.left.push_back(static_cast<float>(std::sin(pan * 1.5707963) * double{(*noise_)[i]}));
    panned.right.push_back(static_cast<float>(std::cos(pan * 1.5707963) * double{(*noise_)[i]}));
  }
  const double panned_swing = max_minus_min(median5(testing::itd_series_ms(panned, kRate, 2400, kHop)));
  std::printf("ITD swing %.3f ms peak to peak (amplitude panning: %.3f ms)\n", swing, panned_swing);
  EXPECT_GE(swing, 0.8);
  EXPECT_LT(panned_swing, 0.05);
}

TEST_F(SpatialAcceptance, FrontAndBackSoundDifferent) {
  const auto crossings = ild_zero_crossings_seconds(*circled_, 480);
  for (double c : crossings) std::printf("ILD crosses zero at %.2f s\n", c);
  ASSERT_GE(crossings.size(), 5u);
  // 0.5 s of both ears around each crossing.
  auto spectrum_at = [&](double seconds) {
    const auto centre = static_cast<std::size_t>(seconds * kRate);
    const std::size_t len = 24000;
    auto l = testing::band_levels_db(circled_->left, centre - len / 2, len, kRate, 500, 16000);
    const auto r = testing::band_levels_db(circled_->right, centre - len / 2, len, kRate, 500, 16000);
    for (std::size_t b = 0; b < l.size(); ++b) l[b] = 0.5 * (l[b] + r[b]);
    return l;
  };
  auto rms_difference = [](const std::vector<double>& a, const std::vector<double>& b) {
    double acc = 0;
    for (std::size_t i = 0; i < a.size(); ++i) acc += (a[i] - b[i]) * (a[i] - b[i]);
    return std::sqrt(acc / static_cast<double>(a.size()));
  };
  // Consecutive crossings are front and back; crossings two apart are the same side one
  // revolution later, which serves as the yardstick for "clearly".
  const auto s0 = spectrum_at(crossings[1]), s1 = spectrum_at(crossings[2]), s2 = spectrum_at(crossings[3]);
  const double front_back = rms_difference(s0, s1);
  const double same_side = rms_difference(s0, s2);
  std::printf("front/back spectral difference %.2f dB RMS over third octaves, same side %.2f dB\n", front_back,
              same_side);
  EXPECT_GT(front_back, 2.0);
  EXPECT_GT(front_back, 3.0 * same_side);
}

TEST(SpatialAcceptanceSine, NoZipperNoiseAtAnyBlockSize) {
  const std::size_t frames = static_cast<std::size_t>(16 * kRate) + 123;
  const auto tone = testing::sine(frames, 1000.0, kRate, 0.5f);
  // Rotation sidebands reach 3 x 1/8 Hz per side; the window's main lobe adds 4 bins.
  const double guard = 8.0 / 8.0 + 4.0 * kRate / static_cast<double>(frames);
  testing::Stereo reference;
  for (std::size_t block : {64u, 256u, 1000u, 333u, 4096u}) {
    const auto out = render_with(classic_dry(), tone, tone, block);
    const double l = testing::off_tone_db(out.left, kRate, 1000.0, guard);
    const double r = testing::off_tone_db(out.right, kRate, 1000.0, guard);
    std::printf("block %zu: off-tone energy left %.1f dB, right %.1f dB\n", block, l, r);
    EXPECT_LE(l, -60.0) << "block " << block;
    EXPECT_LE(r, -60.0) << "block " << block;
    if (reference.left.empty()) {
      reference = out;
    } else {
      // The internal FIFO makes the result independent of the caller's block size.
      for (std::size_t i = 0; i < frames; i += 97) ASSERT_EQ(out.left[i], reference.left[i]) << i;
    }
  }
}

// The full-sphere renderer (rising paths) is just as smooth. Sidebands here reach further:
// the figure-eight sweeps 180 degrees of azimuth per half period, so its gains carry
// harmonics of the motion up to about 12 x 1/8 Hz.
TEST(SpatialAcceptanceSine, RisingPathsAreSmoothToo) {
  const std::size_t frames = static_cast<std::size_t>(16 * kRate) + 123;
  const auto tone = testing::sine(frames, 1000.0, kRate, 0.5f);
  const double guard = 20.0 / 8.0 + 4.0 * kRate / static_cast<double>(frames);
  for (Trajectory trajectory : {Trajectory::kCircle, Trajectory::kFigureEight, Trajectory::kLegacy}) {
    EngineSettings s = classic_dry();
    s.trajectory = trajectory;
    if (trajectory == Trajectory::kCircle) s.elevation_degrees = 30.0;
    const auto out = render_with(s, tone, tone, 1000);
    const double l = testing::off_tone_db(out.left, kRate, 1000.0, guard);
    const double r = testing::off_tone_db(out.right, kRate, 1000.0, guard);
    std::printf("%s%s: off-tone energy left %.1f dB, right %.1f dB\n", trajectory_name(trajectory).c_str(),
                trajectory == Trajectory::kCircle ? " (elevation 30)" : "", l, r);
    EXPECT_LE(std::max(l, r), -60.0) << trajectory_name(trajectory);
  }
}

// The yardstick itself can fail: a gain that follows the direction rounded to the 5 degree
// grid of the measurements (what switching to the nearest response does) scores far above
// the limit.
TEST(SpatialAcceptanceSine, SteppedGainsWouldFail) {
  const std::size_t frames = static_cast<std::size_t>(16 * kRate) + 123;
  auto tone = testing::sine(frames, 1000.0, kRate, 0.5f);
  for (std::size_t i = 0; i < frames; ++i) {
    const double degrees = std::round(360.0 * static_cast<double>(i) / kRate / 8.0 / 5.0) * 5.0;
    tone[i] *= static_cast<float>(0.75 + 0.25 * std::cos(degrees * 3.14159265358979 / 180.0));
  }
  const double guard = 1.0 + 4.0 * kRate / static_cast<double>(frames);
  const double stepped = testing::off_tone_db(tone, kRate, 1000.0, guard);
  std::printf("stepped gains: off-tone energy %.1f dB\n", stepped);
  EXPECT_GT(stepped, -60.0);
}

TEST(SpatialAcceptanceLoudness, NoLevelDipOverARevolution) {
  const auto noise = testing::pink_noise(static_cast<std::size_t>(12 * kRate), 7);
  const double spread = loudness_spread_over_a_revolution(render_with(classic_dry(), noise, noise, 512));
  std::printf("short-term loudness spread over a revolution: %.2f LU\n", spread);
  EXPECT_LE(spread, kCentredSpreadLu);
}

TEST(SpatialAcceptanceLoudness, WideStereoKeepsItsLevelToo) {
  // Uncorrelated left and right: the two sources no longer add up coherently.
  const auto l = testing::pink_noise(static_cast<std::size_t>(12 * kRate), 8);
  const auto r = testing::pink_noise(static_cast<std::size_t>(12 * kRate), 9);
  const double spread = loudness_spread_over_a_revolution(render_with(classic_dry(), l, r, 512));
  std::printf("short-term loudness spread, uncorrelated stereo: %.2f LU\n", spread);
  EXPECT_LE(spread, kWideStereoSpreadLu);
}

// With the default room (reverb 0.25) the reflections follow the source: the time lag
// still swings and the level stays even.
TEST(SpatialAcceptanceRoom, RoomDoesNotFightTheRotation) {
  EngineSettings s = classic_dry();
  s.reverb = 0.25;
  const auto noise = testing::pink_noise(static_cast<std::size_t>(12 * kRate), 7);
  auto renderer = make_renderer(s, kDefaultSofaPath, &shared_filters());
  renderer->prepare(kRate, 4096);
  EXPECT_GT(renderer->tail(), static_cast<std::size_t>(0.2 * kRate));
  const auto out = testing::render(*renderer, noise, noise, 1024);
  testing::Stereo one;
  one.left.assign(out.left.begin() + 48000, out.left.begin() + 9 * 48000);
  one.right.assign(out.right.begin() + 48000, out.right.begin() + 9 * 48000);
  const double swing = max_minus_min(median5(testing::itd_series_ms(one, kRate, 2400, 1200)));
  const double spread = loudness_spread_over_a_revolution(out);
  std::printf("room on: ITD swing %.3f ms, short-term loudness spread %.2f LU\n", swing, spread);
  EXPECT_GE(swing, 0.8);
  EXPECT_LE(spread, kCentredSpreadLu);
}

// Uncorrelated left and right (the widest stereo there is): below the crossover both ears
// still get the same centred bass.
TEST(SpatialAcceptanceBass, BassStaysCentred) {
  const auto l = testing::pink_noise(static_cast<std::size_t>(6 * kRate), 21);
  const auto r = testing::pink_noise(static_cast<std::size_t>(6 * kRate), 22);
  auto bass_correlation = [&](double crossover_hz, double reverb) {
    EngineSettings s = classic_dry();
    s.bass_crossover_hz = crossover_hz;
    s.reverb = reverb;
    s.room_size = 0.8;
    const auto out = render_with(s, l, r, 1024);
    return testing::correlation(testing::lowpass(out.left, 80.0, kRate), testing::lowpass(out.right, 80.0, kRate));
  };
  const double dry = bass_correlation(150.0, 0.0);
  const double room = bass_correlation(150.0, 0.5);  // the room gets no bass to decorrelate
  const double rotating = bass_correlation(0.0, 0.5);  // control: everything rotates and reverberates
  std::printf("left/right correlation below 80 Hz: %.3f dry, %.3f with a big room, %.3f without the crossover\n",
              dry, room, rotating);
  EXPECT_GE(dry, 0.95);
  EXPECT_GE(room, 0.95);
  EXPECT_LT(rotating, room);
}

// Bass and rotating paths meet in level and phase at the crossover: for mono pink noise
// the output's spectrum follows the input's through the hand-over (a 7 dB notch at 127 Hz
// before the paths were matched).
TEST(SpatialAcceptanceBass, CrossoverHandOverIsFlat) {
  const auto noise = testing::pink_noise(static_cast<std::size_t>(16 * kRate), 5);
  const auto out = render_with(classic_dry(), noise, noise, 1024);
  const std::size_t len = noise.size();
  const auto in = testing::band_levels_db(noise, 0, len, kRate, 40, 1000);
  const auto l = testing::band_levels_db(out.left, 0, len, kRate, 40, 1000);
  const auto r = testing::band_levels_db(out.right, 0, len, kRate, 40, 1000);
  double lo = 1e9, hi = -1e9;
  for (std::size_t b = 0; b < in.size(); ++b) {
    const double gain = 10 * std::log10(0.5 * (std::pow(10.0, l[b] / 10) + std::pow(10.0, r[b] / 10))) - in[b];
    lo = std::min(lo, gain);
    hi = std::max(hi, gain);
  }
  std::printf("output/input, third octaves 40 Hz-1 kHz (crossover 150 Hz): %+.1f .. %+.1f dB\n", lo, hi);
  EXPECT_GT(lo, -2.0);
  EXPECT_LT(hi, 2.0);
}

// KEMAR is measured at 44.1 kHz: at that rate libmysofa does not resample, and at 96 kHz
// it does so by more than 2x. The time lag swings the same and clicks stay in place.
TEST(SpatialAcceptanceRates, OtherSampleRates) {
  for (double rate : {44100.0, 96000.0}) {
    const auto frames = static_cast<std::size_t>(8 * rate);
    auto noise = testing::pink_noise(frames, 3);
    const std::size_t click = frames / 2 + 17;
    noise[click] += 20.0f;  // a click well above the noise
    auto renderer = make_renderer(classic_dry(), kDefaultSofaPath, &shared_filters());
    renderer->prepare(rate, 4096);
    const auto out = testing::render(*renderer, noise, noise, 777);
    const auto window = static_cast<std::size_t>(0.05 * rate);
    const double swing = max_minus_min(median5(testing::itd_series_ms(out, rate, window, window / 2)));
    std::size_t peak = 0;
    float best = 0;
    for (std::size_t i = click - window; i < click + window; ++i) {
      const float v = std::abs(out.left[i]) + std::abs(out.right[i]);
      if (v > best) {
        best = v;
        peak = i;
      }
    }
    const double offset_ms = (static_cast<double>(peak) - static_cast<double>(click)) / rate * 1e3;
    std::printf("%.0f Hz: latency %zu, ITD swing %.3f ms, click %+.3f ms away\n", rate, renderer->latency(), swing,
                offset_ms);
    EXPECT_GE(swing, 0.8);
    EXPECT_LE(std::abs(offset_ms), 0.75);
  }
}

TEST(SpatialAcceptanceAlignment, ClickComesOutWhereItWentIn) {
  const std::size_t frames = static_cast<std::size_t>(4 * kRate);
  std::vector<float> clicks(frames, 0.0f);
  const std::size_t at[] = {24000, 62417, 111111, 150000};
  for (std::size_t t : at) clicks[t] = 1.0f;
  for (std::size_t block : {128u, 1000u}) {
    const auto out = render_with(classic_dry(), clicks, clicks, block);
    for (std::size_t t : at) {
      std::size_t peak = t - 2400;
      float best = 0;
      for (std::size_t i = t - 2400; i < t + 2400; ++i) {
        const float v = std::abs(out.left[i]) + std::abs(out.right[i]);
        if (v > best) {
          best = v;
          peak = i;
        }
      }
      const double offset_ms = (static_cast<double>(peak) - static_cast<double>(t)) / kRate * 1e3;
      std::printf("block %zu: click at %zu comes out %+.3f ms away\n", block, t, offset_ms);
      // Within the HRTF's own spread of arrival times (half the largest interaural lag).
      EXPECT_LE(std::abs(offset_ms), 0.75) << "click at " << t;
    }
  }
}

}  // namespace
}  // namespace sy::engine
