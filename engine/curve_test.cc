#include "engine/curve.h"

#include <cmath>

#include <gtest/gtest.h>

namespace sy::engine {
namespace {

TEST(MonotoneCubicTest, PassesThroughItsPointsAndHoldsOutside) {
  const MonotoneCubic c({0, 60, 150}, {10, 6, 10}, MonotoneCubic::Ends::kHold);
  EXPECT_DOUBLE_EQ(c.value(0), 10);
  EXPECT_DOUBLE_EQ(c.value(60), 6);
  EXPECT_DOUBLE_EQ(c.value(150), 10);
  EXPECT_DOUBLE_EQ(c.value(-5), 10);
  EXPECT_DOUBLE_EQ(c.value(400), 10);
  EXPECT_DOUBLE_EQ(c.slope(400), 0);
}

// The property that keeps a curve of valid settings valid: between two keyframes the value
// stays between them, and the slope has no jump anywhere (no kink in the motion).
TEST(MonotoneCubicTest, StaysBetweenNeighboursWithAContinuousSlope) {
  const MonotoneCubic c({0, 10, 12, 40, 41, 90}, {10, 2, 2, 120, 1, 60}, MonotoneCubic::Ends::kHold);
  const auto& x = c.xs();
  const auto& y = c.ys();
  double worst_jump = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    const double lo = std::min(y[i], y[i + 1]), hi = std::max(y[i], y[i + 1]);
    for (double t = x[i]; t <= x[i + 1]; t += 0.001) {
      ASSERT_GE(c.value(t), lo - 1e-9) << t;
      ASSERT_LE(c.value(t), hi + 1e-9) << t;
    }
    if (i > 0) worst_jump = std::max(worst_jump, std::abs(c.slope(x[i] - 1e-9) - c.slope(x[i] + 1e-9)));
  }
  EXPECT_LT(worst_jump, 1e-5);
  // The slope is the derivative of the value.
  for (double t = 0.5; t < 90; t += 0.7)
    EXPECT_NEAR(c.slope(t), (c.value(t + 1e-6) - c.value(t - 1e-6)) / 2e-6, 1e-4 * (1 + std::abs(c.slope(t)))) << t;
}

TEST(MonotoneCubicTest, ExtendedEndsContinueInAStraightLine) {
  const MonotoneCubic c({1, 2, 3}, {0, 1, 2}, MonotoneCubic::Ends::kExtend);
  EXPECT_DOUBLE_EQ(c.value(0), -1);
  EXPECT_DOUBLE_EQ(c.value(5), 4);
  EXPECT_DOUBLE_EQ(c.value(2.5), 1.5);  // evenly spaced points: a straight line throughout
}

TEST(ReciprocalIntegralTest, CountsTurnsOfAChangingPeriod) {
  // Constant period: t / P exactly.
  const ReciprocalIntegral steady(MonotoneCubic({0}, {8}, MonotoneCubic::Ends::kHold));
  EXPECT_NEAR(steady.value(100), 12.5, 1e-12);
  // A period going 10 -> 6 s: against a fine midpoint sum of 1 / period.
  const MonotoneCubic period({0, 60, 150}, {10, 6, 10}, MonotoneCubic::Ends::kHold);
  const ReciprocalIntegral turns(period);
  double sum = 0;
  constexpr double dt = 1e-4;
  for (double t = 0; t < 200; t += dt) {
    sum += dt / period.value(t + dt / 2);
    if (std::fmod(t + dt / 2, 25.0) < dt) {
      EXPECT_NEAR(turns.value(t + dt), sum, 1e-6) << t;
    }
  }
  EXPECT_NEAR(turns.rate(60), 1.0 / 6, 1e-12);
  // Smooth: its derivative is 1 / period everywhere, across the table's steps too.
  for (double t = 0.3; t < 170; t += 0.37)
    EXPECT_NEAR((turns.value(t + 1e-5) - turns.value(t - 1e-5)) / 2e-5, 1.0 / period.value(t), 1e-7) << t;
}

}  // namespace
}  // namespace sy::engine
