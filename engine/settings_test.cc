#include "engine/settings.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace sy::engine {
namespace {

// Expects validate() to reject `s` with a message that names `option`.
void expect_rejected(const EngineSettings& s, const std::string& option) {
  try {
    validate(s);
    FAIL() << "accepted an invalid " << option;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(option), std::string::npos) << e.what();
  }
}

TEST(SettingsTest, DefaultsValidate) { EXPECT_NO_THROW(validate(EngineSettings{})); }

TEST(SettingsTest, TrajectoryNamesRoundTrip) {
  for (Trajectory t : {Trajectory::kCircle, Trajectory::kFigureEight, Trajectory::kLegacy}) {
    EXPECT_EQ(parse_trajectory(trajectory_name(t)), t);
  }
  EXPECT_EQ(parse_trajectory("figure-eight"), Trajectory::kFigureEight);
  EXPECT_EQ(parse_trajectory("Circle"), Trajectory::kCircle);
  EXPECT_THROW(parse_trajectory("square"), std::invalid_argument);
  EXPECT_THROW(parse_trajectory(""), std::invalid_argument);
}

TEST(SettingsTest, DirectionNamesRoundTrip) {
  EXPECT_EQ(parse_direction("cw"), Direction::kClockwise);
  EXPECT_EQ(parse_direction("ccw"), Direction::kCounterClockwise);
  EXPECT_EQ(direction_name(Direction::kClockwise), "cw");
  EXPECT_EQ(direction_name(Direction::kCounterClockwise), "ccw");
  EXPECT_THROW(parse_direction("left"), std::invalid_argument);
}

TEST(SettingsTest, PeriodMessageNamesOptionAndRange) {
  EngineSettings s;
  s.period_seconds = 0.5;
  try {
    validate(s);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--period must be between 1 and 120 seconds"),
              std::string::npos)
        << e.what();
  }
}

TEST(SettingsTest, EveryRangeIsEnforcedAtBothEnds) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    double EngineSettings::*field;
    double below, lowest, highest, above;
    const char* option;
  };
  const Case cases[] = {
      {&EngineSettings::period_seconds, 0.99, 1, 120, 121, "--period"},
      {&EngineSettings::elevation_degrees, -46, -45, 45, 46, "--elevation"},
      {&EngineSettings::width_degrees, -1, 0, 180, 181, "--width"},
      {&EngineSettings::reverb, -0.01, 0, 1, 1.01, "--reverb"},
      {&EngineSettings::room_size, -0.01, 0, 1, 1.01, "--room-size"},
      {&EngineSettings::damping, -0.01, 0, 1, 1.01, "--damping"},
      {&EngineSettings::bass_crossover_hz, 39, 40, 500, 501, "--bass-crossover"},
      {&EngineSettings::speed, 0.49, 0.5, 1.5, 1.51, "--speed"},
      {&EngineSettings::loudness_lufs, -41, -40, -5, -4, "--loudness"},
      {&EngineSettings::true_peak_dbtp, -9.5, -9, 0, 0.1, "--true-peak"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.option);
    EngineSettings s;
    s.*c.field = c.lowest;
    EXPECT_NO_THROW(validate(s));
    s.*c.field = c.highest;
    EXPECT_NO_THROW(validate(s));
    s.*c.field = c.below;
    expect_rejected(s, c.option);
    s.*c.field = c.above;
    expect_rejected(s, c.option);
    s.*c.field = nan;
    expect_rejected(s, c.option);
  }
}

TEST(SettingsTest, BassCrossoverZeroMeansOff) {
  EngineSettings s;
  s.bass_crossover_hz = 0;
  EXPECT_NO_THROW(validate(s));
  s.bass_crossover_hz = 20;
  expect_rejected(s, "--bass-crossover");
}

}  // namespace
}  // namespace sy::engine
