#include "engine/presets.h"

#include <set>

#include <gtest/gtest.h>

namespace sy::engine {
namespace {

TEST(PresetsTest, ClassicIsFirstAndEqualsTheDefaults) {
  ASSERT_FALSE(presets().empty());
  const Preset& first = presets().front();
  EXPECT_EQ(first.name, "classic");
  const EngineSettings defaults;
  EXPECT_EQ(first.settings.trajectory, defaults.trajectory);
  EXPECT_EQ(first.settings.period_seconds, defaults.period_seconds);
  EXPECT_EQ(first.settings.direction, Direction::kClockwise);
  EXPECT_EQ(first.settings.width_degrees, 60.0);
  EXPECT_EQ(first.settings.reverb, defaults.reverb);
}

TEST(PresetsTest, EveryPresetValidatesAndIsDescribed) {
  for (const Preset& p : presets()) {
    SCOPED_TRACE(p.name);
    EXPECT_NO_THROW(validate(p.settings));
    EXPECT_GT(p.description.size(), 20u);
    EXPECT_EQ(p.description.back(), '.');
  }
}

TEST(PresetsTest, NamesAreUniqueAndFindable) {
  std::set<std::string> names;
  for (const Preset& p : presets()) {
    EXPECT_TRUE(names.insert(p.name).second) << "duplicate " << p.name;
    const Preset* found = find_preset(p.name);
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found, &p);
  }
  for (const char* expected : {"classic", "slow", "fast", "subtle", "legacy", "slowed-reverb", "groove", "vocal-focus"}) {
    EXPECT_TRUE(names.count(expected)) << expected;
  }
  EXPECT_EQ(find_preset("nope"), nullptr);
  EXPECT_EQ(find_preset(""), nullptr);
}

TEST(PresetsTest, PresetsDifferTheWayTheirNamesSay) {
  const EngineSettings& classic = find_preset("classic")->settings;
  EXPECT_GT(find_preset("slow")->settings.period_seconds, classic.period_seconds);
  EXPECT_LT(find_preset("fast")->settings.period_seconds, classic.period_seconds);
  EXPECT_LT(find_preset("subtle")->settings.reverb, classic.reverb);
  EXPECT_EQ(find_preset("legacy")->settings.trajectory, Trajectory::kLegacy);
  const EngineSettings& slowed = find_preset("slowed-reverb")->settings;
  EXPECT_DOUBLE_EQ(slowed.speed, 0.85);
  EXPECT_GT(slowed.reverb, classic.reverb);
  EXPECT_GT(slowed.room_size, classic.room_size);
  EXPECT_GT(slowed.period_seconds, classic.period_seconds);
  EXPECT_GT(find_preset("groove")->settings.beats_per_turn, 0);
  EXPECT_EQ(find_preset("vocal-focus")->settings.vocals, Vocals::kCenter);
}

}  // namespace
}  // namespace sy::engine
