// The renderer against the measured head (issue 15): a source passing a grid of directions,
// slowly enough to be static within each measurement, against direct convolution with the
// KEMAR response of each exact direction. Compares per-band interaural level differences,
// each ear's spectrum and the interaural time difference.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/filter_cache.h"
#include "engine/renderer.h"
#include "engine/testing/analysis.h"
#include "engine/testing/binaural_reference.h"
#include "engine/trajectory.h"

namespace sy::engine {
namespace {

constexpr double kRate = 48000.0;
// One revolution a minute: the source moves 1.5 degrees during a measurement.
constexpr double kPeriod = 60.0;
constexpr std::size_t kStretch = 24000;  // 0.5 s around each direction
constexpr int kDirections = 12;          // every 30 degrees around the head

BinauralFilterCache& shared_filters() {
  static BinauralFilterCache cache;
  return cache;
}

// The classic circle, one source (width 0), everything rotating (no bass crossover), dry.
EngineSettings slow_circle(double elevation_degrees) {
  EngineSettings s;
  s.period_seconds = kPeriod;
  s.width_degrees = 0.0;
  s.bass_crossover_hz = 0.0;
  s.reverb = 0.0;
  s.elevation_degrees = elevation_degrees;
  return s;
}

struct Measured {
  std::vector<testing::EarCues> rendered, reference;
};

// Renders a little over one revolution of pink noise and measures both the renderer and the
// reference at the moments the path passes azimuth 0, 30, ..., 330 degrees (counter-clockwise
// from the front, SOFA's convention).
Measured measure(const EngineSettings& settings, BinauralFilterCache& filters, AmbisonicBasis basis) {
  const auto noise = testing::pink_noise(static_cast<std::size_t>((kPeriod + 1.0) * kRate), 15);
  auto renderer = make_renderer(settings, kDefaultSofaPath, &filters);
  renderer->prepare(kRate, 4096);
  const testing::Stereo out = testing::render(*renderer, noise, noise, 1024);
  const auto path = make_motion_path(settings);
  testing::HrtfReference reference(kDefaultSofaPath, kRate, basis);
  Measured m;
  for (int d = 0; d < kDirections; ++d) {
    const double azimuth = 360.0 * d / kDirections;
    // Clockwise: the azimuth falls from 0 at t = 0.
    double t = std::fmod(360.0 - azimuth, 360.0) / 360.0 * kPeriod;
    if (t < 0.5) t += kPeriod;
    const Bearing b = path->at(t);
    const double elevation = b.elevation * 180.0 / std::numbers::pi;
    EXPECT_NEAR(std::remainder(b.azimuth * 180.0 / std::numbers::pi - azimuth, 360.0), 0.0, 0.01);
    const auto begin = static_cast<std::size_t>(t * kRate) - kStretch / 2;
    testing::EarCues c = testing::measure_cues(out, noise, begin, kStretch, kRate);
    c.azimuth_deg = azimuth;
    c.elevation_deg = elevation;
    m.rendered.push_back(c);
    m.reference.push_back(reference.cues(noise, begin, kStretch, azimuth, elevation));
  }
  return m;
}

// Mirror pairs about the interaural axis (front, back): 0/180, 30/150, 60/120 and the left
// side's 330/210, 300/240, as indices into the 30-degree grid.
constexpr int kFrontBack[][2] = {{0, 6}, {1, 5}, {2, 4}, {11, 7}, {10, 8}};

struct Summary {
  testing::CueComparison cues;
  double front_back_db = 0;  // RMS over the pairs
};

Summary summarise(const char* title, const Measured& m) {
  Summary s;
  s.cues = testing::compare_cues(m.rendered, m.reference);
  std::printf("%s\n| azimuth | elevation | ILD error 2-16 kHz | spectral error | ITD renderer / reference |\n", title);
  for (std::size_t d = 0; d < m.rendered.size(); ++d)
    std::printf("| %3.0f | %+5.1f | %.2f dB | %.2f dB | %+.3f / %+.3f ms |\n", m.rendered[d].azimuth_deg,
                m.rendered[d].elevation_deg, s.cues.ild_error_db[d], s.cues.spectral_error_db[d],
                m.rendered[d].itd_ms, m.reference[d].itd_ms);
  if (std::getenv("SY_CUE_DETAIL")) {
    const auto centres = testing::cue_band_centres();
    for (std::size_t d = 0; d < m.rendered.size(); d += 3) {
      std::printf("az %.0f: band | ren L R | ref L R\n", m.rendered[d].azimuth_deg);
      for (std::size_t b = 0; b < centres.size(); ++b)
        std::printf("  %6.0f | %6.1f %6.1f | %6.1f %6.1f\n", centres[b], m.rendered[d].left_db[b], m.rendered[d].right_db[b],
                    m.reference[d].left_db[b], m.reference[d].right_db[b]);
    }
  }
  double acc = 0;
  for (const auto& p : kFrontBack) {
    const auto f = static_cast<std::size_t>(p[0]), b = static_cast<std::size_t>(p[1]);
    const double e = testing::front_back_error_db(m.rendered[f], m.rendered[b], m.reference[f], m.reference[b]);
    std::printf("front/back %3.0f/%3.0f: %.2f dB from the reference (4-12.5 kHz)\n", m.rendered[f].azimuth_deg,
                m.rendered[b].azimuth_deg, e);
    acc += e * e;
  }
  s.front_back_db = std::sqrt(acc / std::size(kFrontBack));
  std::printf("overall: ILD error %.2f dB, spectral error %.2f dB, ITD error %.3f ms, front/back %.2f dB (RMS)\n",
              s.cues.ild_rms_db, s.cues.spectral_rms_db, s.cues.itd_rms_ms, s.front_back_db);
  return s;
}

// The yardstick can fail: the measured head with left and right swapped (the source's mirror
// image) is far from the reference, and the reference is at zero distance from itself.
TEST(BinauralReferenceTest, YardstickSeesAMirroredSource) {
  const auto noise = testing::pink_noise(static_cast<std::size_t>(2 * kRate), 3);
  testing::HrtfReference reference(kDefaultSofaPath, kRate, AmbisonicBasis::kHorizontal);
  std::vector<testing::EarCues> right, mirrored;
  for (double azimuth : {30.0, 60.0, 90.0, 120.0}) {
    right.push_back(reference.cues(noise, 48000, kStretch, azimuth, 0.0));
    mirrored.push_back(reference.cues(noise, 48000, kStretch, -azimuth, 0.0));
  }
  const auto same = testing::compare_cues(right, right);
  const auto wrong = testing::compare_cues(mirrored, right);
  std::printf("mirrored source: ILD error %.1f dB, ITD error %.3f ms\n", wrong.ild_rms_db, wrong.itd_rms_ms);
  EXPECT_EQ(same.ild_rms_db, 0.0);
  EXPECT_EQ(same.spectral_rms_db, 0.0);
  EXPECT_GT(wrong.ild_rms_db, 8.0);
  EXPECT_GT(wrong.itd_rms_ms, 0.5);
  // The reference itself behaves like a head: a source on the left is louder and earlier there.
  EXPECT_GT(right[2].left_db[15] - right[2].right_db[15], 10.0);  // 8 kHz
  EXPECT_GT(right[2].itd_ms, 0.5);
}

TEST(BinauralReferenceTest, HorizontalRendererFollowsTheMeasuredHead) {
  const Measured m = measure(slow_circle(0.0), shared_filters(), AmbisonicBasis::kHorizontal);
  const Summary s = summarise("horizontal (7 channels), 12 directions", m);
  EXPECT_LT(s.cues.itd_rms_ms, 0.1);
}

TEST(BinauralReferenceTest, ElevatedRendererFollowsTheMeasuredHead) {
  const Measured m = measure(slow_circle(30.0), shared_filters(), AmbisonicBasis::kSphere);
  const Summary s = summarise("sphere (16 channels), circle tilted 30 degrees, 12 directions", m);
  EXPECT_LT(s.cues.itd_rms_ms, 0.1);
}

}  // namespace
}  // namespace sy::engine
