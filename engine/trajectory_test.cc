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

}  // namespace
}  // namespace sy::engine
