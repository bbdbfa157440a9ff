// The engine-level proofs of issue 12 (music that moves with the music): curves over time
// are followed and stay smooth, the fade starts and ends the sound in front, the voice stays
// in front while the rest circles, the turn locks to the bar of click tracks.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <numbers>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "engine/beat_tracker.h"
#include "engine/filter_cache.h"
#include "engine/renderer.h"
#include "engine/testing/analysis.h"
#include "engine/testing/click_track.h"
#include "tests/support/sine_fit.h"

namespace sy::engine {
namespace {

constexpr double kRate = 48000.0;

BinauralFilterCache& shared_filters() {
  static BinauralFilterCache cache;
  return cache;
}

EngineSettings dry() {
  EngineSettings s;
  s.reverb = 0.0;
  return s;
}

testing::Stereo render_with(const EngineSettings& settings, const std::vector<float>& l, const std::vector<float>& r,
                            std::size_t block, const MotionContext& motion = {}) {
  auto renderer = make_renderer(settings, kDefaultSofaPath, &shared_filters(), motion);
  renderer->prepare(kRate, 4096);
  return testing::render(*renderer, l, r, block);
}

testing::Stereo slice(const testing::Stereo& s, double from_seconds, double to_seconds) {
  const auto a = static_cast<std::ptrdiff_t>(from_seconds * kRate), b = static_cast<std::ptrdiff_t>(to_seconds * kRate);
  testing::Stereo out;
  out.left.assign(s.left.begin() + a, s.left.begin() + b);
  out.right.assign(s.right.begin() + a, s.right.begin() + b);
  return out;
}

// The rotation period measured from the interaural level difference of a stretch of output.
double measured_period(const testing::Stereo& s, double min_period, double max_period) {
  constexpr std::size_t kHop = 480;
  const auto ild = testing::ild_series_db(s, 2400, kHop);
  return testing::dominant_period_seconds(ild, kHop / kRate, min_period, max_period);
}

TEST(MotionCurves, MeasuredPeriodFollowsTheKeyframes) {
  // 10 s a turn for 40 s, a change over 10 s, 5 s a turn for 40 s.
  EngineSettings s = dry();
  s.period_curve = {{0, 10}, {40, 10}, {50, 5}, {90, 5}};
  const auto noise = testing::pink_noise(static_cast<std::size_t>(90 * kRate), 11);
  const auto out = render_with(s, noise, noise, 1024);
  const double slow = measured_period(slice(out, 0, 40), 3, 20);
  const double fast = measured_period(slice(out, 50, 90), 2, 20);
  std::printf("period curve 10 s -> 5 s: measured %.3f s and %.3f s\n", slow, fast);
  EXPECT_NEAR(slow, 10.0, 10.0 * 0.05);
  EXPECT_NEAR(fast, 5.0, 5.0 * 0.05);
}

// The zipper test of the 8D issue with every curve moving at once: the rotation speeds up,
// the sources spread apart, the orbit tilts. Still nothing but the tone and its sidebands.
TEST(MotionCurves, NoZipperNoiseWithCurvesActive) {
  const std::size_t frames = static_cast<std::size_t>(16 * kRate) + 123;
  const auto tone = testing::sine(frames, 1000.0, kRate, 0.5f);
  EngineSettings s = dry();
  s.period_curve = {{0, 8}, {8, 4}, {16, 6}};
  s.width_curve = {{0, 30}, {10, 120}};
  s.elevation_curve = {{0, 0}, {12, 20}};
  // Sidebands reach further at the faster turns (and the tilt adds twice the rotation rate).
  const double guard = 12.0 / 4.0 + 4.0 * kRate / static_cast<double>(frames);
  for (std::size_t block : {256u, 1000u}) {
    const auto out = render_with(s, tone, tone, block);
    const double l = testing::off_tone_db(out.left, kRate, 1000.0, guard);
    const double r = testing::off_tone_db(out.right, kRate, 1000.0, guard);
    std::printf("curves, block %zu: off-tone energy left %.1f dB, right %.1f dB\n", block, l, r);
    EXPECT_LE(std::max(l, r), -60.0) << "block " << block;
  }
}

// A changing room level on a tone: the room's output ramps, it does not step.
TEST(MotionCurves, ReverbCurveChangesTheRoomLevel) {
  const auto noise = testing::pink_noise(static_cast<std::size_t>(20 * kRate), 3);
  EngineSettings s;
  s.reverb_curve = {{0, 0}, {10, 0}, {12, 0.8}};
  EngineSettings none = dry();
  const auto with = render_with(s, noise, noise, 1024);
  const auto without = render_with(none, noise, noise, 1024);
  // Before the curve rises the room is silent: the output is the dry render.
  double early = 0, late = 0;
  for (std::size_t i = static_cast<std::size_t>(2 * kRate); i < static_cast<std::size_t>(9 * kRate); ++i)
    early = std::max(early, double{std::abs(with.left[i] - without.left[i])});
  for (std::size_t i = static_cast<std::size_t>(14 * kRate); i < static_cast<std::size_t>(19 * kRate); ++i)
    late = std::max(late, double{std::abs(with.left[i] - without.left[i])});
  std::printf("reverb curve: largest difference from the dry render %.2g before, %.2g after\n", early, late);
  EXPECT_LT(early, 1e-6);
  EXPECT_GT(late, 0.01);
}

// The fade: the level difference between the ears is near zero (the sound is in front) at
// both ends, where without the fade the song ends with the sound at the side.
TEST(MotionFade, TheSoundStartsAndEndsInFront) {
  const double seconds = 22;  // 2.75 turns of 8 s: without the fade, it ends at the side
  const auto noise = testing::pink_noise(static_cast<std::size_t>(seconds * kRate), 5);
  MotionContext song;
  song.duration_seconds = seconds;
  EngineSettings s = dry();
  s.fade_seconds = 4;
  const auto faded = render_with(s, noise, noise, 1024, song);
  const auto plain = render_with(dry(), noise, noise, 1024, song);
  auto ild_at = [](const testing::Stereo& out, double from) {
    const auto ild = testing::ild_series_db(slice(out, from, from + 0.3), 4800, 4800);
    double worst = 0;
    for (double v : ild) worst = std::max(worst, std::abs(v));
    return worst;
  };
  const double start = ild_at(faded, 0.1), end = ild_at(faded, seconds - 0.4), plain_end = ild_at(plain, seconds - 0.4);
  std::printf("fade: |ILD| %.2f dB at the start, %.2f dB at the end (without the fade %.2f dB)\n", start, end,
              plain_end);
  EXPECT_LT(start, 1.0);
  EXPECT_LT(end, 1.0);
  EXPECT_GT(plain_end, 3.0);
}

// Speech from Debian's espeak-ng (mono, 22050 Hz, 16-bit WAV on its standard output).
struct Speech {
  std::vector<float> samples;
  double rate = 0;
};
Speech speak(const std::string& text) {
  const std::string command = "espeak-ng --stdout -s 150 \"" + text + "\"";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  std::vector<unsigned char> bytes;
  unsigned char buf[65536];
  while (std::size_t n = fread(buf, 1, sizeof buf, pipe)) bytes.insert(bytes.end(), buf, buf + n);
  if (pclose(pipe) != 0 || bytes.size() < 44) return {};
  // A streamed WAV: the canonical 44-byte header (its sizes unknown), then the samples.
  Speech s;
  std::uint32_t rate = 0;
  std::memcpy(&rate, bytes.data() + 24, 4);
  s.rate = rate;
  for (std::size_t i = 44; i + 1 < bytes.size(); i += 2) {
    std::int16_t v = 0;
    std::memcpy(&v, bytes.data() + i, 2);
    s.samples.push_back(static_cast<float>(v) / 32768.0f);
  }
  return s;
}

testing::Stereo render_at(double rate, const EngineSettings& settings, const std::vector<float>& l,
                          const std::vector<float>& r) {
  auto renderer = make_renderer(settings, kDefaultSofaPath, &shared_filters());
  renderer->prepare(rate, 4096);
  return testing::render(*renderer, l, r, 1024);
}

// Level difference between the ears, 50 ms windows, only where the signal is within 30 dB
// of its loudest window (speech has pauses, where a level difference means nothing).
std::vector<double> ild_where_sounding(const testing::Stereo& s, std::size_t window) {
  std::vector<double> power;
  std::vector<double> ild;
  for (std::size_t at = 0; at + window <= s.left.size(); at += window) {
    double l = 0, r = 0;
    for (std::size_t i = at; i < at + window; ++i) {
      l += double{s.left[i]} * double{s.left[i]};
      r += double{s.right[i]} * double{s.right[i]};
    }
    power.push_back(l + r);
    ild.push_back(10 * std::log10((l + 1e-20) / (r + 1e-20)));
  }
  const double loudest = *std::max_element(power.begin(), power.end());
  std::vector<double> out;
  for (std::size_t i = 0; i < ild.size(); ++i)
    if (power[i] > loudest * 1e-3) out.push_back(ild[i]);
  return out;
}

double swing(std::vector<double> v) {
  // 2nd to 98th percentile: one odd window (a plosive) does not make a swing.
  std::sort(v.begin(), v.end());
  const auto at = [&v](double q) { return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))]; };
  return at(0.98) - at(0.02);
}

TEST(MotionVocals, CentredSpeechStaysInFront) {
  const Speech speech = speak(
      "The voice should stay in front of the listener while the rest of the song travels around the head. "
      "This sentence is long enough to last for a whole turn of the circle, at eight seconds a turn.");
  ASSERT_GT(speech.samples.size(), static_cast<std::size_t>(9 * speech.rate)) << "espeak-ng gave no speech";
  EngineSettings s = dry();
  const auto circled = render_at(speech.rate, s, speech.samples, speech.samples);
  s.vocals = Vocals::kCenter;
  const auto centred = render_at(speech.rate, s, speech.samples, speech.samples);
  s.vocals = Vocals::kNarrow;
  const auto narrow = render_at(speech.rate, s, speech.samples, speech.samples);
  const auto window = static_cast<std::size_t>(0.05 * speech.rate);
  const double circle_swing = swing(ild_where_sounding(circled, window));
  const double centre_swing = swing(ild_where_sounding(centred, window));
  const double narrow_swing = swing(ild_where_sounding(narrow, window));
  std::printf("espeak-ng speech, %.1f s: level difference swings %.1f dB circling, %.1f dB with vocals center, "
              "%.1f dB narrow\n",
              static_cast<double>(speech.samples.size()) / speech.rate, circle_swing, centre_swing, narrow_swing);
  EXPECT_GT(circle_swing, 10.0);
  EXPECT_LT(centre_swing, 3.0);
  EXPECT_GT(narrow_swing, centre_swing + 1.0);
  EXPECT_LT(narrow_swing, circle_swing - 3.0);
}

// How much of a series' variance one sinusoid of the given period explains (0 to 1).
double period_strength(const std::vector<double>& series, double hop_seconds, double period) {
  double mean = 0;
  for (double v : series) mean += v;
  mean /= static_cast<double>(series.size());
  const auto fit = testing::fit_sine([&](std::size_t i) { return series[i] - mean; }, 0, series.size(),
                                     hop_seconds / period);
  return fit.explained / fit.total;
}

TEST(MotionVocals, UncorrelatedStereoStillCircles) {
  std::mt19937 rng(8);
  std::normal_distribution<float> g(0.0f, 0.1f);
  std::vector<float> l(static_cast<std::size_t>(24 * kRate)), r(l.size());
  for (float& v : l) v = g(rng);
  for (float& v : r) v = g(rng);
  EngineSettings s = dry();
  s.vocals = Vocals::kCenter;
  const auto out = render_with(s, l, r, 1024);
  constexpr std::size_t kHop = 480;
  const auto ild = testing::ild_series_db(out, 2400, kHop);
  const double strength = period_strength(ild, kHop / kRate, 8.0);
  std::printf("uncorrelated stereo noise with vocals center: ILD period strength %.2f\n", strength);
  EXPECT_GE(strength, 0.5);
}

// With the motion stopped (the sources in front, no width), the split is inaudible: the
// render with the voice kept apart is the render without it.
TEST(MotionVocals, TheSplitNullsWhenNothingMoves) {
  std::mt19937 rng(12);
  std::normal_distribution<float> g(0.0f, 0.1f);
  const auto voice = testing::pink_noise(static_cast<std::size_t>(6 * kRate), 13);
  std::vector<float> l(voice.size()), r(voice.size());
  for (std::size_t i = 0; i < voice.size(); ++i) {
    l[i] = voice[i] + 0.5f * g(rng);
    r[i] = voice[i] + 0.5f * g(rng);
  }
  EngineSettings s = dry();
  s.width_degrees = 0;
  s.period_seconds = 1e12;  // stopped (beyond what a user may set: this is the engine alone)
  const auto together = render_with(s, l, r, 1024);
  s.vocals = Vocals::kCenter;
  const auto apart = render_with(s, l, r, 1024);
  double error = 0, reference = 0;
  for (std::size_t i = 0; i < l.size(); ++i) {
    const double el = double{apart.left[i]} - double{together.left[i]};
    const double er = double{apart.right[i]} - double{together.right[i]};
    error += el * el + er * er;
    reference += double{together.left[i]} * double{together.left[i]} + double{together.right[i]} * double{together.right[i]};
  }
  const double null_db = 10 * std::log10(error / reference);
  std::printf("vocals center against circle with the sources in front: %.1f dB\n", null_db);
  EXPECT_LE(null_db, -60.0);
}

BeatAnalysis track_beats(const std::vector<float>& mono) {
  BeatTracker tracker(kRate);
  for (std::size_t at = 0; at < mono.size(); at += 4096) {
    const std::size_t k = std::min<std::size_t>(4096, mono.size() - at);
    const float* planes[2] = {mono.data() + at, mono.data() + at};
    tracker.add(ConstAudioView(planes, 2, k));
  }
  return tracker.finish();
}

// A minute of clicks at `bpm_at`, its beats as the engine tracks them, and the song they make
// for the motion (which points at those beats: not to be copied).
struct TrackedClicks {
  TrackedClicks(const std::function<double(double)>& bpm_at, unsigned seed)
      : track(testing::click_track(60, kRate, bpm_at, seed)), found(track_beats(track.audio)) {
    song.duration_seconds = 60;
    song.beats = &found.grid;
  }
  TrackedClicks(const TrackedClicks&) = delete;
  TrackedClicks& operator=(const TrackedClicks&) = delete;

  testing::ClickTrack track;
  BeatAnalysis found;
  MotionContext song;
};

EngineSettings sixteen_beats_a_turn() {
  EngineSettings s = dry();
  s.beats_per_turn = 16;
  return s;
}

// Times where the level difference crosses zero going down: the source passing the front
// left to right (the clockwise turn). 50 ms windows every millisecond, smoothed over 41 ms.
std::vector<double> front_passes(const testing::Stereo& out) {
  constexpr std::size_t kHop = 48, kWindow = 2400;
  const auto smooth = testing::moving_average(testing::ild_series_db(out, kWindow, kHop), 20);
  std::vector<double> passes;
  for (std::size_t i = 1; i < smooth.size(); ++i) {
    if (!(smooth[i - 1] > 0 && smooth[i] <= 0)) continue;
    const double frac = smooth[i - 1] / (smooth[i - 1] - smooth[i]);
    const double t = ((static_cast<double>(i - 1) + frac) * kHop + kWindow / 2.0) / kRate;
    // The level difference can wobble round zero in front: one pass per half second.
    if (passes.empty() || t - passes.back() > 0.5) passes.push_back(t);
  }
  return passes;
}

TEST(MotionBeats, SixteenBeatsATurnAtSeveralTempos) {
  for (double bpm : {90.0, 120.0, 140.0}) {
    SCOPED_TRACE(bpm);
    const TrackedClicks clicks([bpm](double) { return bpm; }, 21);
    ASSERT_FALSE(clicks.found.grid.beats.empty());
    // The motion measured on steady noise (the clicks' own levels would blur it).
    const auto noise = testing::pink_noise(clicks.track.audio.size(), 4);
    const auto out = render_with(sixteen_beats_a_turn(), noise, noise, 1024, clicks.song);
    const double expected = 16 * 60 / bpm;
    const double period = measured_period(slice(out, 2, 59), expected / 2, expected * 2);
    double worst = 0;
    const auto passes = front_passes(out);
    for (double t : passes) {
      if (t < 2 || t > 58) continue;
      double nearest = 1e9;
      for (double d : clicks.track.downbeats) nearest = std::min(nearest, std::abs(d - t));
      worst = std::max(worst, nearest);
    }
    std::printf("%.0f BPM, 16 beats a turn: tracked %.2f BPM, period %.3f s (expected %.3f), %zu front passes, "
                "the worst %.1f ms from a downbeat\n",
                bpm, clicks.found.tempo_bpm, period, expected, passes.size(), 1000 * worst);
    EXPECT_NEAR(period, expected, expected * 0.02);
    EXPECT_GE(passes.size(), static_cast<std::size_t>(50 / expected));
    EXPECT_LT(worst, 0.05);
  }
}

TEST(MotionBeats, ATempoChangeIsFollowedWithoutAJump) {
  // 110 BPM for 20 s, up to 130 over 20 s, 130 to the end.
  auto tempo = [](double t) { return t < 20 ? 110.0 : t < 40 ? 110.0 + (t - 20) : 130.0; };
  const TrackedClicks clicks(tempo, 22);
  ASSERT_FALSE(clicks.found.grid.beats.empty());
  const EngineSettings s = sixteen_beats_a_turn();
  const auto count = make_turn_count(s, clicks.song);
  // The turn count at each true downbeat of the click track: every fourth bar is a whole turn.
  double worst_lock = 0;
  for (const double t : clicks.track.downbeats) {
    if (t < 2 || t > 58) continue;
    const double turns = count->turns(t);
    const double off_seconds = std::abs(turns * 4 - std::round(turns * 4)) / 4 / count->rate(t);
    worst_lock = std::max(worst_lock, off_seconds);
  }
  // No jump: the speed changes by less than 1 % over any 10 ms.
  double worst_step = 0;
  for (double t = 0.01; t < 60; t += 0.01)
    worst_step = std::max(worst_step, std::abs(count->rate(t) - count->rate(t - 0.01)) / count->rate(t));
  std::printf("110 -> 130 BPM: each bar's first beat at most %.1f ms from a quarter turn; the speed changes by at "
              "most %.3f %% in 10 ms; %.2f s a turn at first, %.2f s at the end\n",
              1000 * worst_lock, 100 * worst_step, 1 / count->rate(10), 1 / count->rate(50));
  EXPECT_LT(worst_lock, 0.05);
  EXPECT_LT(worst_step, 0.01);
  EXPECT_NEAR(1 / count->rate(10), 16 * 60 / 110.0, 16 * 60 / 110.0 * 0.02);
  EXPECT_NEAR(1 / count->rate(50), 16 * 60 / 130.0, 16 * 60 / 130.0 * 0.02);
  const auto path = make_motion_path(s, clicks.song);
  double worst_move = 0;
  for (double t = 0.001; t < 60; t += 0.001)
    worst_move = std::max(worst_move, std::abs(std::remainder(path->at(t).azimuth - path->at(t - 0.001).azimuth,
                                                              2 * std::numbers::pi)));
  EXPECT_LT(worst_move, 0.002);  // under 2 rad/s anywhere: no jump
}

TEST(MotionBeats, ASongWithoutABeatTurnsAtItsPeriod) {
  const auto noise = testing::pink_noise(static_cast<std::size_t>(30 * kRate), 9);
  const BeatAnalysis found = track_beats(noise);
  EXPECT_TRUE(found.grid.beats.empty());
  MotionContext song;
  song.beats = &found.grid;
  const EngineSettings s = sixteen_beats_a_turn();
  EXPECT_NEAR(make_turn_count(s, song)->rate(10), 1 / s.period_seconds, 1e-12);
}

}  // namespace
}  // namespace sy::engine
