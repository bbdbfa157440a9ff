#include "engine/beat_tracker.h"

#include <cmath>
#include <functional>
#include <cstdio>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "engine/audio_buffer.h"
#include "engine/testing/click_track.h"

namespace sy::engine {
namespace {

constexpr double kRate = 48000.0;

using testing::ClickTrack;

ClickTrack click_track(double seconds, const std::function<double(double)>& bpm_at) {
  return testing::click_track(seconds, kRate, bpm_at);
}

BeatAnalysis analyse(const std::vector<float>& mono, double bpm = 0) {
  BeatTracker tracker(kRate);
  AudioBuffer block(2, 1000);
  for (std::size_t at = 0; at < mono.size(); at += 1000) {
    const std::size_t k = std::min<std::size_t>(1000, mono.size() - at);
    for (std::size_t c = 0; c < 2; ++c) std::copy_n(mono.begin() + static_cast<std::ptrdiff_t>(at), k, block.channel(c));
    tracker.add(std::as_const(block).view().first(k));
  }
  return tracker.finish(bpm);
}

// Distance from t to the nearest of `times`.
double nearest(const std::vector<double>& times, double t) {
  double best = 1e9;
  for (double x : times) best = std::min(best, std::abs(x - t));
  return best;
}

TEST(BeatTrackerTest, FindsTheBeatsAndBarsOfClickTracks) {
  for (double bpm : {90.0, 120.0, 140.0}) {
    SCOPED_TRACE(bpm);
    const ClickTrack track = click_track(40, [bpm](double) { return bpm; });
    const BeatAnalysis found = analyse(track.audio);
    ASSERT_GT(found.grid.beats.size(), 10u);
    double mean_offset = 0, worst = 0;
    std::size_t counted = 0;
    for (double b : found.grid.beats) {
      if (b < 3 || b > 37) continue;  // the tracker's ends settle
      double signed_offset = 1e9;
      for (double x : track.beats)
        if (std::abs(b - x) < std::abs(signed_offset)) signed_offset = b - x;
      mean_offset += signed_offset;
      worst = std::max(worst, std::abs(signed_offset));
      ++counted;
    }
    mean_offset /= static_cast<double>(counted);
    const double first_down = found.grid.beats[found.grid.first_downbeat];
    std::printf("%.0f BPM: found %.2f BPM, clarity %.1f, beats off by %.1f ms on average (worst %.1f ms), "
                "first downbeat %.2f s off a true one by %.1f ms\n",
                bpm, found.tempo_bpm, found.clarity, 1000 * mean_offset, 1000 * worst, first_down,
                1000 * nearest(track.downbeats, first_down));
    EXPECT_NEAR(found.tempo_bpm, bpm, bpm * 0.02);
    EXPECT_LT(worst, 0.03);
    EXPECT_LT(nearest(track.downbeats, first_down), 0.03);
  }
}

TEST(BeatTrackerTest, NoiseHasNoClearBeat) {
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.0f, 0.1f);
  std::vector<float> noise(static_cast<std::size_t>(30 * kRate));
  for (float& v : noise) v = g(rng);
  const BeatAnalysis found = analyse(noise);
  std::printf("noise: clarity %.2f\n", found.clarity);
  EXPECT_TRUE(found.grid.beats.empty());
  EXPECT_EQ(found.tempo_bpm, 0);
}

TEST(BeatTrackerTest, AGivenTempoWins) {
  // 120 BPM clicks told to be 60: beats every second (the path is held to the tempo given).
  const ClickTrack track = click_track(40, [](double) { return 120.0; });
  const BeatAnalysis found = analyse(track.audio, 60);
  std::printf("120 BPM told 60: %.2f BPM\n", found.tempo_bpm);
  EXPECT_NEAR(found.tempo_bpm, 60, 60 * 0.02);
}

TEST(BeatTrackerTest, TooShortForATempo) {
  const ClickTrack track = click_track(5, [](double) { return 120.0; });
  EXPECT_TRUE(analyse(track.audio).grid.beats.empty());
}

}  // namespace
}  // namespace sy::engine
