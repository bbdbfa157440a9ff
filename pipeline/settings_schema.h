#pragma once
// The settings schema: every setting of a render in one table — its API field, CLI flag,
// unit, range, default and help sentence (the pattern of FFmpeg's AVOption tables). The CLI's
// options and messages, the API's parser and messages, the OpenAPI schema, `presets --json`
// and the web page's check are all derived from it; a new setting is one row here (and, for
// engine settings, one row in engine/settings.cc).
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/presets.h"
#include "engine/settings.h"
#include "pipeline/render.h"

namespace sy::pipeline {

using engine::SettingNames;

// kCurve: keyframes of an engine setting over time; in the API one key of the `curves`
// object ({"curves": {"period": [[0, 10], [60, 6]]}}), on the command line a flag of its own.
// kPreview: an object {seconds, start?} (the API's settings.preview); the CLI spells it as
// its own options (--preview [SECONDS], --start, --end), so it takes no flag from this row.
enum class SettingKind { kPreset, kEngine, kCurve, kFormat, kBitrate, kVbr, kPreview };

struct SettingSpec {
  SettingKind kind;
  std::string_view json;   // API field
  std::string_view flag;   // CLI option
  std::string_view group;  // CLI help group: "sound" or "encoding"
  std::string_view unit;
  std::string_view help;
  const engine::EngineSettingSpec* engine = nullptr;  // kEngine and kCurve rows
  bool api = true;         // false: a CLI option only (not in JSON, not in the API)

  std::string_view name(SettingNames names) const { return names == SettingNames::kFlag ? flag : json; }
  bool is_number() const;
  std::vector<std::string> choices() const;  // names a choice setting takes; empty for numbers
};

const std::vector<SettingSpec>& setting_specs();
const SettingSpec* find_setting(std::string_view json);

// Applies `values` (an object of API field → JSON value; the CLI collects its flags into the
// same shape) on top of the preset it names (default: classic) to `options` and returns the
// normalised settings: every API setting's resulting value, what a job stores and reports.
// Throws std::invalid_argument naming the setting as `names` says: "period must be between 1
// and 120 seconds (got 500)" for the API, "--period must be ..." for the CLI.
nlohmann::json apply_settings(const nlohmann::json& values, SettingNames names,
                              RenderOptions* options);

// The engine settings under their API names: what `presets --json`, GET /api/v1/presets and a
// job's stored settings print, and what the API accepts back unchanged.
nlohmann::json engine_settings_json(const engine::EngineSettings& s);

// For the CLI's help: the range and unit of a setting, e.g. "1–120 seconds".
std::string range_text(const SettingSpec& spec);

// A curve as people type it, "0:00=10, 1:00=6, 2:30=10" (times as seconds, m:ss or h:mm:ss,
// pairs separated by commas), as the API's JSON: [[0, 10], [60, 6], [150, 10]]. Throws
// std::invalid_argument naming `flag` when the text is not such a list.
nlohmann::json parse_curve_text(std::string_view text, std::string_view flag);

// The schema for machines: one object per API setting {name, flag, type, unit, minimum,
// maximum, offAtZero, integer, enum, default, description} (`presets --schema`).
nlohmann::json settings_schema_json();
// The JSON-Schema object of the API's `settings` (OpenAPI components.schemas.Settings).
nlohmann::json settings_openapi_schema();

}  // namespace sy::pipeline
