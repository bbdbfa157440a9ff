#pragma once
// Everything a user can set about the 8D sound. Presets are named values of this struct.
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sy::engine {

enum class Trajectory { kCircle, kFigureEight, kLegacy };
enum class Direction { kClockwise, kCounterClockwise };

struct EngineSettings {
  Trajectory trajectory = Trajectory::kCircle;
  double period_seconds = 8.0;         // one revolution
  Direction direction = Direction::kClockwise;
  double elevation_degrees = 0.0;      // peak elevation; the path rises and falls by this much
  double width_degrees = 60.0;         // angle between the song's left and right sources
  double reverb = 0.25;                // wet level 0..1; 0 turns the room off
  double room_size = 0.5;              // 0..1
  double damping = 0.5;                // 0..1, high-frequency absorption of the room
  double bass_crossover_hz = 150.0;    // below this the signal stays centred; 0 disables
  double speed = 1.0;                  // varispeed (slowed-reverb uses 0.85)
  double loudness_lufs = -14.0;        // integrated loudness target
  double true_peak_dbtp = -1.0;        // limiter ceiling
  unsigned seed = 1;                   // for the legacy random path; renders are repeatable
};

Trajectory parse_trajectory(const std::string& name);  // throws std::invalid_argument
std::string trajectory_name(Trajectory t);
Direction parse_direction(const std::string& name);    // "cw" | "ccw"
std::string direction_name(Direction d);

// How a message names a setting: by its CLI flag ("--room-size") or its API field ("roomSize").
enum class SettingNames { kFlag, kJson };

// One row per engine setting a user can change: its names, unit, range and help sentence,
// and where it lives in EngineSettings. This is the engine's part of the settings schema
// (pipeline/settings_schema.h adds the preset and the encoding); the CLI's options, the API's
// parser and its messages, the OpenAPI schema and `presets --json` all come from it.
struct EngineSettingSpec {
  std::string_view json;   // API field: "roomSize"
  std::string_view flag;   // CLI option: "--room-size"
  std::string_view unit;   // in messages and help: "seconds", "Hz", "" for plain numbers
  std::string_view help;   // one sentence for people
  // A number: its field and range. `off_at_zero`: 0 is also allowed and turns it off.
  double EngineSettings::*number = nullptr;
  double min = 0, max = 0;
  bool off_at_zero = false;
  bool integer = false;    // whole numbers only (the seed)
  // A choice: its names (the first is canonical per value) and how it is read and written.
  std::span<const std::string_view> choices;
  std::string (*get_choice)(const EngineSettings&) = nullptr;
  void (*set_choice)(EngineSettings&, const std::string&) = nullptr;  // throws invalid_argument
  // The seed is the one integer setting and not a double: read and written through these.
  double (*get_integer)(const EngineSettings&) = nullptr;
  void (*set_integer)(EngineSettings&, double) = nullptr;

  std::string_view name(SettingNames names) const { return names == SettingNames::kFlag ? flag : json; }
  bool is_choice() const { return get_choice != nullptr; }
};

const std::vector<EngineSettingSpec>& engine_setting_specs();

// "--period must be between 1 and 120 seconds (got 500)" (kFlag) or "period must be ..." (kJson).
std::string range_message(const EngineSettingSpec& spec, SettingNames names, double got);

// Throws std::invalid_argument naming the setting (as `names` says) when a value is out of range.
void validate(const EngineSettings& s, SettingNames names = SettingNames::kFlag);

}  // namespace sy::engine
