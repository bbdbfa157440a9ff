#include "worker/job_settings.h"

#include <gtest/gtest.h>

#include "engine/presets.h"
#include "pipeline/settings_schema.h"

namespace sy::worker {
namespace {

TEST(JobSettings, DefaultsToTheClassicPresetAsMp3) {
  const auto s = parse_job_settings(nullptr, {});
  const engine::Preset* classic = engine::find_preset("classic");
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
                                     {"format", "m4a"},
                                     {"bitrate", "256k"}},
                                    {});
  EXPECT_DOUBLE_EQ(s.options.engine.period_seconds, 12.5);
  EXPECT_EQ(s.options.engine.direction, engine::Direction::kCounterClockwise);
  EXPECT_DOUBLE_EQ(s.options.engine.elevation_degrees, 10);
  EXPECT_DOUBLE_EQ(s.options.engine.reverb, 0);
  EXPECT_EQ(s.options.encode.format, io::OutputFormat::kM4a);
  EXPECT_EQ(s.options.encode.bitrate, 256000);
  EXPECT_EQ(s.format, "m4a");
  EXPECT_EQ(s.normalized["bitrate"], "256k");
}

TEST(JobSettings, BitRatesFollowTheFormatTable) {
  // A plain number below 1000 means kbit/s, as people type it.
  EXPECT_EQ(parse_job_settings({{"bitrate", 320}}, {}).options.encode.bitrate, 320000);
  EXPECT_EQ(parse_job_settings({{"bitrate", "320"}}, {}).options.encode.bitrate, 320000);
  // Each format's own range: MP3 stops at 320k, Opus goes down to 6k.
  EXPECT_THROW(parse_job_settings({{"bitrate", "384k"}}, {}), std::invalid_argument);
  EXPECT_EQ(parse_job_settings({{"format", "m4a"}, {"bitrate", "384k"}}, {}).options.encode.bitrate, 384000);
  EXPECT_EQ(parse_job_settings({{"format", "opus"}, {"bitrate", "6k"}}, {}).options.encode.bitrate, 6000);
  // Lossless formats ignore a bit rate and do not report one.
  const auto flac = parse_job_settings({{"format", "flac"}, {"bitrate", "256k"}}, {});
  EXPECT_EQ(flac.format, "flac");
  EXPECT_FALSE(flac.normalized.contains("bitrate"));
}

TEST(JobSettings, MessagesNameTheJsonFieldNotTheFlag) {
  const auto message = [](const nlohmann::json& j) {
    try {
      parse_job_settings(j, {});
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message({{"period", 500}}), "period must be between 1 and 120 seconds (got 500)");
  EXPECT_EQ(message({{"roomSize", 2}}), "roomSize must be between 0 and 1 (got 2)");
  EXPECT_EQ(message({{"bassCrossover", 20}}), "bassCrossover must be 0 (off) or between 40 and 500 Hz (got 20)");
  EXPECT_EQ(message({{"direction", "up"}}), "direction must be cw or ccw (got 'up')");
  EXPECT_EQ(message({{"bitrate", "999k"}}), "bitrate for mp3 must be between 32k and 320k (got 999k)");
  EXPECT_EQ(message({{"seed", 3}}), "unknown setting: seed");
}

TEST(JobSettings, EveryEngineParameterIsSettable) {
  const auto s = parse_job_settings({{"trajectory", "figure8"},
                                     {"roomSize", 0.8},
                                     {"damping", 0.2},
                                     {"bassCrossover", 200},
                                     {"truePeak", -2}},
                                    {});
  EXPECT_EQ(s.options.engine.trajectory, engine::Trajectory::kFigureEight);
  EXPECT_DOUBLE_EQ(s.options.engine.room_size, 0.8);
  EXPECT_DOUBLE_EQ(s.options.engine.damping, 0.2);
  EXPECT_DOUBLE_EQ(s.options.engine.bass_crossover_hz, 200);
  EXPECT_DOUBLE_EQ(s.options.engine.true_peak_dbtp, -2);
  EXPECT_EQ(s.normalized["trajectory"], "figure8");
  EXPECT_THROW(parse_job_settings({{"trajectory", "spiral"}}, {}), std::invalid_argument);
  EXPECT_THROW(parse_job_settings({{"damping", 3}}, {}), std::invalid_argument);
}

TEST(JobSettings, PrintedSettingsAreAcceptedBackUnchangedForEveryPreset) {
  // What the presets route and `presets --json` print must be valid API input meaning the
  // same sound, field for field.
  for (const engine::Preset& p : engine::presets()) {
    const nlohmann::json printed = pipeline::engine_settings_json(p.settings);
    const engine::EngineSettings back = parse_job_settings(printed, io::InputLimits{}).options.engine;
    EXPECT_EQ(pipeline::engine_settings_json(back), printed) << p.name;
    EXPECT_EQ(back.trajectory, p.settings.trajectory) << p.name;
    EXPECT_EQ(back.bass_crossover_hz, p.settings.bass_crossover_hz) << p.name;
    EXPECT_EQ(back.true_peak_dbtp, p.settings.true_peak_dbtp) << p.name;
    EXPECT_EQ(back.damping, p.settings.damping) << p.name;
  }
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
