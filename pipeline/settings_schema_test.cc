#include "pipeline/settings_schema.h"

#include <gtest/gtest.h>

#include <set>

namespace sy::pipeline {
namespace {

std::string refusal(const nlohmann::json& values, SettingNames names) {
  RenderOptions o;
  try {
    apply_settings(values, names, &o);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

TEST(SettingsSchema, EveryNumberIsAcceptedAtItsEndsAndRefusedPastThemByName) {
  for (const SettingSpec& spec : setting_specs()) {
    if (spec.kind != SettingKind::kEngine || spec.engine->is_choice() || !spec.api) continue;
    SCOPED_TRACE(std::string(spec.json));
    const std::string key(spec.json);
    const double span = spec.engine->max - spec.engine->min;
    for (double ok : {spec.engine->min, spec.engine->max})
      EXPECT_EQ(refusal({{key, ok}}, SettingNames::kJson), "accepted");
    for (double bad : {spec.engine->min - span / 100 - 0.5, spec.engine->max + span / 100 + 0.5}) {
      if (spec.engine->off_at_zero && bad < 0) continue;
      const std::string api = refusal({{key, bad}}, SettingNames::kJson);
      EXPECT_EQ(api.rfind(key + " must be", 0), 0u) << api;
      const std::string cli = refusal({{key, bad}}, SettingNames::kFlag);
      EXPECT_EQ(cli.rfind(std::string(spec.flag) + " must be", 0), 0u) << cli;
    }
    EXPECT_EQ(refusal({{key, "fast"}}, SettingNames::kJson), key + " must be a number");
  }
}

TEST(SettingsSchema, ChoicesTakeTheirNamesAndRefuseOthers) {
  EXPECT_EQ(refusal({{"trajectory", "figure8"}, {"direction", "ccw"}, {"format", "opus"}, {"preset", "slow"}},
                    SettingNames::kJson),
            "accepted");
  EXPECT_EQ(refusal({{"preset", "loud"}}, SettingNames::kJson),
            "preset must be one of classic, slow, fast, subtle, legacy or slowed-reverb (got 'loud')");
  EXPECT_EQ(refusal({{"format", "exe"}}, SettingNames::kFlag),
            "--format must be one of mp3, m4a, opus, flac or wav (got 'exe')");
  EXPECT_EQ(refusal({{"trajectory", 3}}, SettingNames::kJson),
            "trajectory must be one of circle, figure8 or legacy");
  EXPECT_EQ(refusal(nlohmann::json::array(), SettingNames::kJson), "settings must be an object");
}

TEST(SettingsSchema, ThePresetComesFirstAndEachSettingOverridesOneValue) {
  RenderOptions o;
  const nlohmann::json normalized =
      apply_settings({{"period", 5}, {"preset", "slowed-reverb"}}, SettingNames::kJson, &o);
  const engine::Preset* slowed = engine::find_preset("slowed-reverb");
  EXPECT_EQ(o.engine.period_seconds, 5);
  EXPECT_EQ(o.engine.speed, slowed->settings.speed);
  EXPECT_EQ(normalized["preset"], "slowed-reverb");
  EXPECT_EQ(normalized["period"], 5);
  EXPECT_EQ(normalized["bitrate"], "192k");
}

TEST(SettingsSchema, TheOpenApiSchemaListsExactlyWhatTheApiAccepts) {
  const nlohmann::json schema = settings_openapi_schema();
  std::set<std::string> documented;
  for (const auto& [name, property] : schema["properties"].items()) {
    documented.insert(name);
    EXPECT_TRUE(property.contains("description")) << name;
    EXPECT_TRUE(property.contains("default")) << name;
  }
  std::set<std::string> accepted;
  for (const SettingSpec& spec : setting_specs())
    if (spec.api) accepted.insert(std::string(spec.json));
  EXPECT_EQ(documented, accepted);
  EXPECT_EQ(schema["properties"]["period"]["minimum"], 1);
  EXPECT_EQ(schema["properties"]["period"]["maximum"], 120);
  EXPECT_EQ(schema["additionalProperties"], false);
}

TEST(SettingsSchema, DefaultsInTheSchemaAreTheClassicPresetAndValid) {
  nlohmann::json values = nlohmann::json::object();
  for (const nlohmann::json& row : settings_schema_json()) values[row["name"].get<std::string>()] = row["default"];
  RenderOptions o;
  const nlohmann::json normalized = apply_settings(values, SettingNames::kJson, &o);
  RenderOptions plain;
  EXPECT_EQ(normalized, apply_settings(nlohmann::json::object(), SettingNames::kJson, &plain));
}

}  // namespace
}  // namespace sy::pipeline
