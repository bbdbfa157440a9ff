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
    // A tempo is for beat sync: it is given with beats per turn.
    const nlohmann::json with = key == "bpm" ? nlohmann::json{{"beatsPerTurn", 16}} : nlohmann::json::object();
    for (double ok : {spec.engine->min, spec.engine->max}) {
      nlohmann::json values = with;
      values[key] = ok;
      EXPECT_EQ(refusal(values, SettingNames::kJson), "accepted");
    }
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
            "preset must be one of classic, slow, fast, subtle, legacy, slowed-reverb, groove or vocal-focus (got 'loud')");
  EXPECT_EQ(refusal({{"format", "exe"}}, SettingNames::kFlag),
            "--format must be one of mp3, m4a, opus, flac, wav, mp4, mov, mkv, webm or keep (got 'exe')");
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
    if (spec.api) accepted.insert(spec.kind == SettingKind::kCurve ? "curves" : std::string(spec.json));
  EXPECT_EQ(documented, accepted);
  EXPECT_EQ(schema["properties"]["period"]["minimum"], 1);
  EXPECT_EQ(schema["properties"]["period"]["maximum"], 120);
  EXPECT_EQ(schema["additionalProperties"], false);
}

TEST(SettingsSchema, DefaultsInTheSchemaAreTheClassicPresetAndValid) {
  nlohmann::json values = nlohmann::json::object();
  for (const nlohmann::json& row : settings_schema_json()) {
    const std::string name = row["name"].get<std::string>();
    if (row["type"] == "curve") values["curves"][name.substr(name.find('.') + 1)] = row["default"];
    else values[name] = row["default"];
  }
  RenderOptions o;
  const nlohmann::json normalized = apply_settings(values, SettingNames::kJson, &o);
  RenderOptions plain;
  EXPECT_EQ(normalized, apply_settings(nlohmann::json::object(), SettingNames::kJson, &plain));
}

TEST(SettingsSchema, CurvesTakeKeyframesWithinTheRangeOfTheirSetting) {
  RenderOptions o;
  const nlohmann::json normalized = apply_settings(
      {{"curves", {{"period", {{0, 10}, {60, 6}, {150, 10}}}, {"reverb", {{0, 0}, {30, 0.5}}}}}, {"fade", 3}},
      SettingNames::kJson, &o);
  ASSERT_EQ(o.engine.period_curve.size(), 3u);
  EXPECT_EQ(o.engine.period_curve[1], (engine::Keyframe{60, 6}));
  EXPECT_EQ(o.engine.reverb_curve.size(), 2u);
  EXPECT_EQ(o.engine.fade_seconds, 3);
  EXPECT_EQ(normalized["curves"]["period"], nlohmann::json::parse("[[0,10],[60,6],[150,10]]"));
  EXPECT_FALSE(normalized["curves"].contains("width"));

  EXPECT_EQ(refusal({{"curves", {{"period", {{0, 10}, {60, 500}}}}}}, SettingNames::kJson),
            "curves.period values must be between 1 and 120 seconds (got 500 at 1:00)");
  EXPECT_EQ(refusal({{"curves", {{"period", {{0, 10}, {60, 500}}}}}}, SettingNames::kFlag),
            "--period-curve values must be between 1 and 120 seconds (got 500 at 1:00)");
  EXPECT_EQ(refusal({{"curves", {{"width", {{30, 10}, {20, 60}}}}}}, SettingNames::kJson),
            "curves.width times must increase (0:20 comes after 0:30)");
  EXPECT_EQ(refusal({{"curves", {{"period", {{0, 10}, {0, 5}}}}}}, SettingNames::kFlag),
            "--period-curve times must increase (two keyframes at 0:00)");
  EXPECT_EQ(refusal({{"curves", {{"width", {{-1, 10}}}}}}, SettingNames::kJson),
            "curves.width times must be between 0 and 1440:00 (got -1 seconds)");
  EXPECT_EQ(refusal({{"curves", {{"speed", {{0, 1}}}}}}, SettingNames::kJson), "unknown setting: curves.speed");
  EXPECT_EQ(refusal({{"curves", {{"period", {{0, 1, 2}}}}}}, SettingNames::kJson),
            "curves.period must be a list of [seconds, value] pairs");
  EXPECT_EQ(refusal({{"curves", {{"period", "0:00=10"}}}}, SettingNames::kJson),
            "curves.period must be a list of [seconds, value] pairs");
  EXPECT_EQ(refusal({{"curves", 3}}, SettingNames::kJson), "curves must be an object");
  nlohmann::json many = nlohmann::json::array();
  for (int i = 0; i < 101; ++i) many.push_back({i, 10});
  EXPECT_EQ(refusal({{"curves", {{"period", many}}}}, SettingNames::kJson),
            "curves.period takes at most 100 keyframes (got 101)");
  EXPECT_EQ(refusal({{"fade", 61}}, SettingNames::kJson), "fade must be between 0 and 60 seconds (got 61)");
}

// The page's keyframe editor takes its limits from these rows (tests/e2e/check_settings_schema.mjs).
TEST(SettingsSchema, CurveRowsStateTheLimitsTheApiEnforces) {
  for (const nlohmann::json& row : settings_schema_json()) {
    if (row["type"] != "curve") continue;
    const std::string key = row["name"].get<std::string>().substr(std::string("curves.").size());
    const double end = row["maxSeconds"], low = row["minimum"], high = row["maximum"];
    EXPECT_EQ(refusal({{"curves", {{key, {{0, low}, {end, high}}}}}}, SettingNames::kJson), "accepted") << key;
    EXPECT_NE(refusal({{"curves", {{key, {{0, low}, {end + 1, high}}}}}}, SettingNames::kJson), "accepted") << key;
    EXPECT_NE(refusal({{"curves", {{key, {{0, low - 1}}}}}}, SettingNames::kJson), "accepted") << key;
    EXPECT_EQ(row["maxKeyframes"], engine::kMaxKeyframes) << key;
  }
}

TEST(SettingsSchema, CurveTextReadsClockTimes) {
  EXPECT_EQ(parse_curve_text("0:00=10, 1:00=6, 2:30=10", "--period-curve"),
            nlohmann::json::parse("[[0,10],[60,6],[150,10]]"));
  EXPECT_EQ(parse_curve_text("5=1.5,1:02:03.5=2", "--width-curve"), nlohmann::json::parse("[[5,1.5],[3723.5,2]]"));
  for (const char* bad : {"", "0:00", "0:00=", "=3", "1:75=3", "a=1", "0:00=10,", "0:00=1x", "-1=3", "1:2:3:4=5"}) {
    try {
      parse_curve_text(bad, "--period-curve");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--period-curve must be TIME=VALUE pairs like", 0), 0u) << e.what();
    }
  }
}

TEST(SettingsSchema, PreviewIsAnExcerptFromTheLoudestPartOrFromItsStart) {
  RenderOptions whole;
  EXPECT_FALSE(apply_settings(nlohmann::json::object(), SettingNames::kJson, &whole).contains("preview"));
  EXPECT_TRUE(whole.excerpt.whole_song());

  RenderOptions loudest;
  auto normalized = apply_settings({{"preview", {{"seconds", 30}}}}, SettingNames::kJson, &loudest);
  EXPECT_EQ(normalized["preview"], (nlohmann::json{{"seconds", 30}}));
  EXPECT_TRUE(loudest.excerpt.from_loudest);
  EXPECT_DOUBLE_EQ(loudest.excerpt.length_seconds, 30);

  RenderOptions from;
  normalized = apply_settings({{"preview", {{"seconds", 12.5}, {"start", 60}}}}, SettingNames::kJson, &from);
  EXPECT_EQ(normalized["preview"]["start"], 60);
  EXPECT_FALSE(from.excerpt.from_loudest);
  EXPECT_DOUBLE_EQ(from.excerpt.start_seconds, 60);
  EXPECT_DOUBLE_EQ(from.excerpt.length_seconds, 12.5);

  RenderOptions back;  // what a job stores is accepted back unchanged
  EXPECT_EQ(apply_settings(normalized, SettingNames::kJson, &back), normalized);

  for (const nlohmann::json& bad : {nlohmann::json(30), nlohmann::json::object(),
                                    nlohmann::json{{"seconds", 0}}, nlohmann::json{{"seconds", 301}},
                                    nlohmann::json{{"seconds", "30"}}, nlohmann::json{{"seconds", 30}, {"start", -1}},
                                    nlohmann::json{{"seconds", 30}, {"end", 40}}}) {
    RenderOptions o;
    try {
      apply_settings({{"preview", bad}}, SettingNames::kJson, &o);
      ADD_FAILURE() << "accepted preview " << bad.dump();
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("preview ", 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace sy::pipeline
