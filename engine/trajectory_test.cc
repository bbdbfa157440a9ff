#include "engine/trajectory.h"

#include <cmath>
#include <numbers>

#include <gtest/gtest.h>

namespace sy::engine {
namespace {

constexpr double kPi = std::numbers::pi;

double wrap(double a) { return std::remainder(a, 2 * kPi); }

// Largest change of direction between points 1 ms apart, and of its rate: a jump or a
// kink anywhere would show up here.
void expect_smooth(const MotionPath& path, double seconds) {
  constexpr double dt = 1e-3;
  double max_step = 0, max_accel = 0;
  double prev_step_az = 0, prev_step_el = 0;
  for (double t = dt; t < seconds; t += dt) {
    const Bearing a = path.at(t - dt), b = path.at(t);
    const double step_az = wrap(b.azimuth - a.azimuth), step_el = b.elevation - a.elevation;
    max_step = std::max(max_step, std::hypot(step_az, step_el));
    if (t > 2 * dt) max_accel = std::max(max_accel, std::hypot(step_az - prev_step_az, step_el - prev_step_el));
    prev_step_az = step_az;
    prev_step_el = step_el;
  }
  EXPECT_LT(max_step, 0.01);    // < 10 rad/s
  EXPECT_LT(max_accel, 1e-4);   // no kinks
}

TEST(TrajectoryTest, CircleTurnsOncePerPeriodInTheChosenDirection) {
  EngineSettings s;
  s.period_seconds = 8.0;
  s.direction = Direction::kClockwise;
  auto cw = make_motion_path(s);
  EXPECT_FALSE(cw->elevated());
  EXPECT_NEAR(wrap(cw->at(2.0).azimuth), -kPi / 2, 1e-9);  // clockwise: to the right first
  EXPECT_NEAR(wrap(cw->at(8.0).azimuth), 0.0, 1e-9);
  s.direction = Direction::kCounterClockwise;
  EXPECT_NEAR(wrap(make_motion_path(s)->at(2.0).azimuth), kPi / 2, 1e-9);
  expect_smooth(*cw, 20.0);
}

TEST(TrajectoryTest, ElevationRisesAndFalls) {
  EngineSettings s;
  s.elevation_degrees = 30.0;
  auto path = make_motion_path(s);
  EXPECT_TRUE(path->elevated());
  double lo = 1, hi = -1;
  for (double t = 0; t < 8.0; t += 0.01) {
    lo = std::min(lo, path->at(t).elevation);
    hi = std::max(hi, path->at(t).elevation);
  }
  EXPECT_NEAR(hi, 30.0 * kPi / 180, 1e-3);
  EXPECT_NEAR(lo, -30.0 * kPi / 180, 1e-3);
  expect_smooth(*path, 16.0);
}

TEST(TrajectoryTest, FigureEightLoopsAroundEachEar) {
  EngineSettings s;
  s.trajectory = Trajectory::kFigureEight;
  s.direction = Direction::kCounterClockwise;
  auto path = make_motion_path(s);
  // Quarter points: behind the head at ear height; crossing in front at half period.
  EXPECT_NEAR(std::abs(wrap(path->at(2.0).azimuth)), kPi, 1e-9);
  EXPECT_NEAR(path->at(4.0).azimuth, 0.0, 1e-9);
  // Passes the left ear (azimuth 90) once above and once below the horizon.
  EXPECT_GT(path->at(8.0 / 12).elevation, 0.3);     // phase pi/6: azimuth 90, going out
  EXPECT_LT(path->at(8.0 * 5 / 12).elevation, -0.3);  // phase 5pi/6: azimuth 90, coming back
  EXPECT_GT(path->at(8.0 * 7 / 12).azimuth, -kPi);  // and the other loop is on the right
  EXPECT_LT(path->at(8.0 * 7 / 12).azimuth, 0.0);
  expect_smooth(*path, 16.0);
}

TEST(TrajectoryTest, LegacySwaysSideToSideAndRepeatsWithItsSeed) {
  EngineSettings s;
  s.trajectory = Trajectory::kLegacy;
  s.seed = 5;
  auto a = make_motion_path(s), b = make_motion_path(s);
  s.seed = 6;
  auto c = make_motion_path(s);
  double mean_abs = 0, differs = 0;
  int left = 0, right = 0, n = 0;
  for (double t = 2.0; t < 120.0; t += 0.05, ++n) {
    const double az = a->at(t).azimuth;
    ASSERT_EQ(az, b->at(t).azimuth);
    differs = std::max(differs, std::abs(az - c->at(t).azimuth));
    mean_abs += std::abs(az);
    (az > 0 ? left : right)++;
  }
  mean_abs /= n;
  EXPECT_GT(mean_abs, 35.0 * kPi / 180);  // biased to the sides, not hovering in front
  EXPECT_GT(left, n / 4);
  EXPECT_GT(right, n / 4);
  EXPECT_GT(differs, 0.5);                 // another seed, another path
  expect_smooth(*a, 60.0);
}

TEST(TrajectoryTest, PeriodCurveSetsTheSpeedAtEachKeyframe) {
  EngineSettings s;
  s.period_curve = {{0, 10}, {60, 6}, {150, 10}};
  const auto count = make_turn_count(s);
  EXPECT_NEAR(count->rate(0), 1.0 / 10, 1e-12);
  EXPECT_NEAR(count->rate(60), 1.0 / 6, 1e-12);
  EXPECT_NEAR(count->rate(150), 1.0 / 10, 1e-12);
  EXPECT_NEAR(count->rate(500), 1.0 / 10, 1e-12);  // held after the last keyframe
  // Between keyframes the speed stays between theirs.
  for (double t = 0; t < 60; t += 0.5) {
    EXPECT_LE(count->rate(t), 1.0 / 6 + 1e-12);
    EXPECT_GE(count->rate(t), 1.0 / 10 - 1e-12);
  }
  expect_smooth(*make_motion_path(s), 200.0);
}

TEST(TrajectoryTest, WidthAndElevationCurvesAreReadAsGiven) {
  EngineSettings s;
  s.elevation_curve = {{0, 0}, {10, 40}};
  const auto path = make_motion_path(s);
  EXPECT_TRUE(path->elevated());
  const MonotoneCubic width = setting_over_time({{0, 60}, {10, 120}}, 60, kPi / 180);
  EXPECT_NEAR(width.value(10), 120 * kPi / 180, 1e-12);
  EXPECT_NEAR(setting_over_time({}, 75, 1.0).value(33), 75, 1e-12);
  expect_smooth(*path, 30.0);
}

// Every turn of the motion after `t` from `count`: monotone (never backwards) and, at the
// seams, with no step in position or speed.
void expect_never_backwards(const TurnCount& count, double from, double to) {
  double previous = count.turns(from);
  for (double t = from; t <= to; t += 1e-3) {
    const double now = count.turns(t);
    ASSERT_GE(now, previous - 1e-12) << t;
    ASSERT_GE(count.rate(t), -1e-12) << t;
    previous = now;
  }
}

// A song of known length, which the fade out ends with.
MotionContext song_lasting(double seconds) {
  MotionContext song;
  song.duration_seconds = seconds;
  return song;
}

// A faded path: in front at the start and at the song's end, never backwards, never a jump.
void expect_faded_path(const EngineSettings& s, const MotionContext& song, double end_tolerance) {
  const auto path = make_motion_path(s, song);
  EXPECT_NEAR(wrap(path->at(0).azimuth), 0.0, 1e-12);
  EXPECT_NEAR(wrap(path->at(song.duration_seconds).azimuth), 0.0, end_tolerance);
  expect_never_backwards(*make_turn_count(s, song), 0, song.duration_seconds);
  expect_smooth(*path, song.duration_seconds);
}

TEST(TrajectoryTest, FadeStartsAndEndsInFrontFromAStandstill) {
  EngineSettings s;
  s.fade_seconds = 4;
  const MotionContext song = song_lasting(61.3);
  const auto count = make_turn_count(s, song);
  EXPECT_EQ(count->turns(0), 0.0);
  EXPECT_EQ(count->rate(0), 0.0);
  const double last = count->turns(song.duration_seconds);
  EXPECT_NEAR(last, std::round(last), 1e-9);  // a whole number of turns: in front
  EXPECT_NEAR(count->rate(song.duration_seconds), 0.0, 1e-12);
  // Full speed from the end of the fade in, never faster than without the fade.
  EXPECT_NEAR(count->rate(4.0), 1.0 / 8, 1e-9);
  EXPECT_NEAR(count->rate(30.0), 1.0 / 8, 1e-12);
  for (double t = 0; t < song.duration_seconds; t += 0.01) ASSERT_LE(count->rate(t), 1.0 / 8 + 1e-9) << t;
  // The ease out is at most about a turn and a half longer than asked.
  double moving_until = 0;
  for (double t = 0; t < song.duration_seconds; t += 0.01)
    if (count->rate(t) > 0.999 / 8) moving_until = t;
  EXPECT_GE(moving_until, song.duration_seconds - 4 - 1.5 * 8);
  expect_faded_path(s, song, 1e-6);
}

TEST(TrajectoryTest, FadeWithoutAKnownLengthOnlyEasesIn) {
  EngineSettings s;
  s.fade_seconds = 6;
  const auto count = make_turn_count(s);
  EXPECT_EQ(count->turns(0), 0.0);
  EXPECT_NEAR(count->rate(100.0), 1.0 / 8, 1e-12);
  expect_never_backwards(*count, 0, 100);
}

TEST(TrajectoryTest, ASongShorterThanItsFadesStillStartsAndEndsInFront) {
  EngineSettings s;
  s.fade_seconds = 10;
  expect_faded_path(s, song_lasting(12), 1e-9);
}

TEST(TrajectoryTest, LegacyFadesByNarrowingItsSway) {
  EngineSettings s;
  s.trajectory = Trajectory::kLegacy;
  s.fade_seconds = 3;
  const auto path = make_motion_path(s, song_lasting(30));
  EXPECT_NEAR(path->at(0).azimuth, 0.0, 1e-12);
  EXPECT_NEAR(path->at(30).azimuth, 0.0, 1e-12);
  EXPECT_GT(std::abs(path->at(15).azimuth), 0.0);
  expect_smooth(*path, 30);
}

}  // namespace
}  // namespace sy::engine
