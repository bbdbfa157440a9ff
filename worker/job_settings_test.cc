#include "worker/job_settings.h"

#include <gtest/gtest.h>

#include "engine/presets.h"

namespace sy::worker {
namespace {

TEST(JobSettings, DefaultsToTheClassicPresetAsMp3) {
  const auto s = parse_job_settings(nullptr, {});
  const Preset* classic = find_preset("classic");
  ASSERT_NE(classic, nullptr);
  EXPECT_DOUBLE_EQ(s.options.engine.period_seconds, classic->settings.period_seconds);
  EXPECT_EQ(s.format, "mp3");
  EXPECT_EQ(s.options.encode.bitrate, 192000);
  EXPECT_EQ(s.normalized["preset"], "classic");
}

TEST(JobSettings, FlagsOverrideThePreset) {
  const auto s = parse_job_settings({{"preset", "slow"},
                                     {"period", 12.5},
                                     {"direction", "ccw"},
                                     {"elevation", 10},
                                     {"reverb", 0},
                                     {"format", "flac"},
                                     {"bitrate", "256k"}},
                                    {});
  EXPECT_DOUBLE_EQ(s.options.engine.period_seconds, 12.5);
  EXPECT_EQ(s.options.engine.direction, Direction::kCounterClockwise);
  EXPECT_DOUBLE_EQ(s.options.engine.elevation_degrees, 10);
  EXPECT_DOUBLE_EQ(s.options.engine.reverb, 0);
  EXPECT_EQ(s.options.encode.format, OutputFormat::kFlac);
  EXPECT_EQ(s.options.encode.bitrate, 256000);
  EXPECT_EQ(s.format, "flac");
}

TEST(JobSettings, RejectsWhatCannotWork) {
  const nlohmann::json bad[] = {
      {{"preset", "nope"}},       {{"period", -1}},         {{"period", "fast"}},
      {{"direction", "up"}},      {{"format", "exe"}},      {{"bitrate", "lots"}},
      {{"bitrate", 10}},          {{"reverb", 3}},          {{"unknown", 1}},
      nlohmann::json::array(),
  };
  for (const auto& j : bad) EXPECT_THROW(parse_job_settings(j, {}), std::invalid_argument) << j;
}

}  // namespace
}  // namespace sy::worker
