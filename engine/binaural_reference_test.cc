// The renderer against the measured head (issue 15): a source passing a grid of directions,
// slowly enough to be static within each measurement, against direct convolution with the
// KEMAR response of each exact direction. Compares per-band interaural level differences,
// each ear's spectrum and the interaural time difference.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
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

// Where and when the slow circle passes azimuth 0, 30, ..., 330 degrees (counter-clockwise
// from the front, SOFA's convention).
struct Passage {
  double azimuth_deg, elevation_deg;
  std::size_t begin;  // first frame of the measured stretch
};

std::vector<Passage> passages(const EngineSettings& settings) {
  const auto path = make_motion_path(settings);
  std::vector<Passage> out;
  for (int d = 0; d < kDirections; ++d) {
    const double azimuth = 360.0 * d / kDirections;
    // Clockwise: the azimuth falls from 0 at t = 0.
    double t = std::fmod(360.0 - azimuth, 360.0) / 360.0 * kPeriod;
    if (t < 0.5) t += kPeriod;
    const Bearing b = path->at(t);
    EXPECT_NEAR(std::remainder(b.azimuth * 180.0 / std::numbers::pi - azimuth, 360.0), 0.0, 0.01);
    out.push_back({azimuth, b.elevation * 180.0 / std::numbers::pi, static_cast<std::size_t>(t * kRate) - kStretch / 2});
  }
  return out;
}

const std::vector<float>& noise() {
  static const auto n = testing::pink_noise(static_cast<std::size_t>((kPeriod + 1.0) * kRate), 15);
  return n;
}

std::vector<testing::EarCues> rendered_cues(const EngineSettings& settings, BinauralFilterCache& filters) {
  auto renderer = make_renderer(settings, kDefaultSofaPath, &filters);
  renderer->prepare(kRate, 4096);
  const testing::Stereo out = testing::render(*renderer, noise(), noise(), 1024);
  std::vector<testing::EarCues> cues;
  for (const Passage& p : passages(settings)) {
    testing::EarCues c = testing::measure_cues(out, noise(), p.begin, kStretch, kRate);
    c.azimuth_deg = p.azimuth_deg;
    c.elevation_deg = p.elevation_deg;
    cues.push_back(c);
  }
  return cues;
}

// The reference does not depend on the decoder: computed once per path.
const std::vector<testing::EarCues>& reference_cues(double elevation_degrees) {
  static std::vector<std::pair<double, std::vector<testing::EarCues>>> done;
  for (const auto& [elevation, cues] : done)
    if (elevation == elevation_degrees) return cues;
  testing::HrtfReference reference(kDefaultSofaPath, kRate,
                                   elevation_degrees == 0 ? AmbisonicBasis::kHorizontal : AmbisonicBasis::kSphere);
  std::vector<testing::EarCues> cues;
  for (const Passage& p : passages(slow_circle(elevation_degrees)))
    cues.push_back(reference.cues(noise(), p.begin, kStretch, p.azimuth_deg, p.elevation_deg));
  done.emplace_back(elevation_degrees, cues);
  return done.back().second;
}

struct Measured {
  std::vector<testing::EarCues> rendered, reference;
};

Measured measure(double elevation_degrees, BinauralFilterCache& filters) {
  return {rendered_cues(slow_circle(elevation_degrees), filters), reference_cues(elevation_degrees)};
}

// Mirror pairs about the interaural axis (front, back): 0/180, 30/150, 60/120 and the left
// side's 330/210, 300/240, as indices into the 30-degree grid.
constexpr int kFrontBack[][2] = {{0, 6}, {1, 5}, {2, 4}, {11, 7}, {10, 8}};

struct Summary {
  testing::CueComparison cues;
  double front_back_db = 0;  // RMS over the pairs
};

Summary summarise(const char* title, const Measured& m, bool print = true) {
  Summary s;
  s.cues = testing::compare_cues(m.rendered, m.reference);
  if (print) std::printf("%s\n| azimuth | elevation | ILD error 2-16 kHz | spectral error | ITD renderer / reference |\n", title);
  for (std::size_t d = 0; d < m.rendered.size() && print; ++d)
    std::printf("| %3.0f | %+5.1f | %.2f dB | %.2f dB | %+.3f / %+.3f ms |\n", m.rendered[d].azimuth_deg,
                m.rendered[d].elevation_deg, s.cues.ild_error_db[d], s.cues.spectral_error_db[d],
                m.rendered[d].itd_ms, m.reference[d].itd_ms);
  if (print && std::getenv("SY_CUE_DETAIL")) {
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
    if (print) std::printf("front/back %3.0f/%3.0f: %.2f dB from the reference (4-12.5 kHz)\n", m.rendered[f].azimuth_deg,
                m.rendered[b].azimuth_deg, e);
    acc += e * e;
  }
  s.front_back_db = std::sqrt(acc / std::size(kFrontBack));
  if (print) std::printf("overall: ILD error %.2f dB, spectral error %.2f dB, ITD error %.3f ms, front/back %.2f dB (RMS)\n",
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

// The most each error (RMS over the directions) may reach.
struct Bounds {
  double itd_ms, ild_db, spectral_db, front_back_db;
};

void expect_follows_the_measured_head(const char* title, double elevation_degrees, const Bounds& most) {
  const Summary s = summarise(title, measure(elevation_degrees, shared_filters()));
  EXPECT_LT(s.cues.itd_rms_ms, most.itd_ms) << "ITD error";
  EXPECT_LT(s.cues.ild_rms_db, most.ild_db) << "ILD error";
  EXPECT_LT(s.cues.spectral_rms_db, most.spectral_db) << "spectral error";
  EXPECT_LT(s.front_back_db, most.front_back_db) << "front/back error";
}

TEST(BinauralReferenceTest, HorizontalRendererFollowsTheMeasuredHead) {
  // The least-squares decode before MagLS: 6.3 dB ILD, 3.5 dB spectral, 4.8 dB front/back.
  // Front/back: issue 15 asks for 2 dB of the reference.
  expect_follows_the_measured_head("horizontal (7 channels), 12 directions", 0.0,
                                   {.itd_ms = 0.1, .ild_db = 3.5, .spectral_db = 2.5, .front_back_db = 2.0});
}

TEST(BinauralReferenceTest, ElevatedRendererFollowsTheMeasuredHead) {
  // Before MagLS: 6.3 dB ILD, 4.0 dB spectral, 4.3 dB front/back; MagLS on the even grid
  // alone: 4.6 / 2.8 / 2.8 dB. Front/back: issue 15 asks for 2 dB of the reference, met by
  // fitting in decibels and favouring the tilted circle (docs/ENGINE.md).
  expect_follows_the_measured_head("sphere (16 channels), circle tilted 30 degrees, 12 directions", 30.0,
                                   {.itd_ms = 0.1, .ild_db = 4.0, .spectral_db = 3.0, .front_back_db = 2.0});
}

// Design variants against the reference (issue 15): crossover, layout, coherence. A study
// that prints a table and asserts nothing, so it runs only when asked for:
// --gtest_also_run_disabled_tests --gtest_filter='*Study*' (SY_VARIANTS=<part of a name>).
TEST(BinauralReferenceStudy, DISABLED_Variants) {
  struct Variant {
    std::string name;
    std::function<void(BinauralDecoderDesign&)> change;
  };
  const char* only = std::getenv("SY_VARIANTS");
  // The rows before issue 15's sphere changes fit plain magnitudes on the even grid.
  auto plain = [](BinauralDecoderDesign& d) {
    d.magnitude_fit_floor = 0;
    d.orbit_elevation_degrees = 0;
    d.orbit_weight = 0;
  };
  auto orbit = [](double floor, double weight) {
    return [floor, weight](BinauralDecoderDesign& d) {
      d.magnitude_fit_floor = floor;
      d.orbit_weight = weight;
    };
  };
  std::vector<Variant> variants = {
      {"LS (before)", [&](BinauralDecoderDesign& d) { plain(d); d.magnitude_fit_hz = 0; }},
      {"MagLS 1 kHz", [&](BinauralDecoderDesign& d) { plain(d); d.magnitude_fit_hz = 1000; }},
      {"MagLS 1.5 kHz", [&](BinauralDecoderDesign& d) { plain(d); d.magnitude_fit_hz = 1500; }},
      {"MagLS 2 kHz", [&](BinauralDecoderDesign& d) { plain(d); }},
      {"MagLS 3 kHz", [&](BinauralDecoderDesign& d) { plain(d); d.magnitude_fit_hz = 3000; }},
      {"MagLS 2 kHz, no coherence", [&](BinauralDecoderDesign& d) { plain(d); d.diffuse_coherence = false; }},
      {"MagLS 2 kHz, basic", [&](BinauralDecoderDesign& d) { plain(d); d.max_re = false; }},
      {"MagLS 2 kHz, 12 speakers",
       [&](BinauralDecoderDesign& d) { plain(d); d.horizontal_speakers = 12; d.sphere_speakers = 100; }},
      {"MagLS 2 kHz, 36 speakers",
       [&](BinauralDecoderDesign& d) { plain(d); d.horizontal_speakers = 36; d.sphere_speakers = 36; }},
      // Sphere only (the horizontal renderer uses none of these): MagLS in decibels
      // (floor), and weighted towards the tilted circle the source travels (orbit).
      {"MagLS 2 kHz, dB floor 0.1", orbit(0.1, 0)},
      {"MagLS 2 kHz, dB floor 0.03", orbit(0.03, 0)},
      {"MagLS 2 kHz, orbit 0.5", orbit(0, 0.5)},
      {"MagLS 2 kHz, orbit 0.8", orbit(0, 0.8)},
      {"MagLS 2 kHz, orbit 0.95", orbit(0, 0.95)},
      {"MagLS 2 kHz, dB floor 0.1, orbit 0.5", orbit(0.1, 0.5)},
      {"MagLS 2 kHz, dB floor 0.1, orbit 0.65", orbit(0.1, 0.65)},
      {"MagLS 2 kHz, dB floor 0.1, orbit 0.8 (shipped)", orbit(0.1, 0.8)},
      {"MagLS 2 kHz, dB floor 0.1, orbit 0.95", orbit(0.1, 0.95)},
      {"MagLS 2 kHz, dB floor 0.03, orbit 0.8", orbit(0.03, 0.8)},
      {"MagLS 2 kHz, dB floor 0.01, orbit 0.8", orbit(0.01, 0.8)},
      {"MagLS 2 kHz, dB floor 0.1, orbit 0.8, no coherence",
       [&](BinauralDecoderDesign& d) { orbit(0.1, 0.8)(d); d.diffuse_coherence = false; }},
      {"MagLS 1.5 kHz, dB floor 0.1, orbit 0.8",
       [&](BinauralDecoderDesign& d) { orbit(0.1, 0.8)(d); d.magnitude_fit_hz = 1500; }},
  };
  // SY_ELEVATION=<degrees> measures the sphere on a circle tilted that much instead of 30.
  const char* tilt = std::getenv("SY_ELEVATION");
  for (double elevation : {0.0, tilt ? std::atof(tilt) : 30.0}) {
    for (const Variant& v : variants) {
      if (only && v.name.find(only) == std::string::npos) continue;
      BinauralFilterCache cache(4, [&v](const std::string& path, double rate, const BinauralDecoderDesign& design) {
        BinauralDecoderDesign d = design;
        v.change(d);
        return BinauralFilterCache::design_from_file(path, rate, d);
      });
      const Summary s = summarise("", measure(elevation, cache), false);
      std::printf("| %s | %s | %.2f dB | %.2f dB | %.2f dB | %.3f ms |\n", elevation == 0 ? "horizontal" : "sphere",
                  v.name.c_str(), s.cues.ild_rms_db, s.cues.spectral_rms_db, s.front_back_db, s.cues.itd_rms_ms);
    }
  }
}
}  // namespace
}  // namespace sy::engine
