#pragma once
// Everything a user can set about the 8D sound. Presets are named values of this struct.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sy::engine {

enum class Trajectory { kCircle, kFigureEight, kLegacy };
enum class Direction { kClockwise, kCounterClockwise };
// What happens to what the song's two channels share (in most mixes the voice, the kick
// and the bass): it circles with the rest, stays in front, or sways on a +-30 degree arc.
enum class Vocals { kCircle, kCenter, kNarrow };

// A setting that changes over time: (seconds from the start, value) pairs, strictly
// increasing in time, interpolated smoothly between (engine/curve.h) and held before the
// first and after the last. Empty: the setting's fixed value applies.
struct Keyframe {
  double seconds = 0;
  double value = 0;
  bool operator==(const Keyframe&) const = default;
};
using Keyframes = std::vector<Keyframe>;

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
  double beats_per_turn = 0;           // 0: the period rules; else one turn per this many beats
  double bpm = 0;                      // 0: detect the tempo; else the song's tempo
  double fade_seconds = 0;             // the motion eases in and out; starts and ends in front
  Vocals vocals = Vocals::kCircle;
  // Over time, instead of the fixed value of the same name (period, width, elevation, reverb).
  Keyframes period_curve{}, width_curve{}, elevation_curve{}, reverb_curve{};
};

Trajectory parse_trajectory(const std::string& name);  // throws std::invalid_argument
std::string trajectory_name(Trajectory t);
Direction parse_direction(const std::string& name);    // "cw" | "ccw"
std::string direction_name(Direction d);
Vocals parse_vocals(const std::string& name);          // "circle" | "center" | "narrow"
std::string vocals_name(Vocals v);

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
  // A curve: keyframes of the number setting `varies` (its unit and range apply to every
  // value). `json` is its place in the API's `curves` object ("curves.period"); the flag
  // takes text like "0:00=10, 1:00=6".
  Keyframes EngineSettings::*curve = nullptr;
  const EngineSettingSpec* varies = nullptr;

  std::string_view name(SettingNames names) const { return names == SettingNames::kFlag ? flag : json; }
  bool is_choice() const { return get_choice != nullptr; }
  bool is_curve() const { return curve != nullptr; }
  // The key inside `curves`: "period" for "curves.period".
  std::string_view curve_key() const { return json.substr(json.find('.') + 1); }
};

// Curves hold at most this many keyframes (a song's worth of changes; bounds the work an
// API request can ask for).
inline constexpr std::size_t kMaxKeyframes = 100;
// Keyframe times run from 0 to this many seconds (the longest input is far shorter).
inline constexpr double kMaxKeyframeSeconds = 24 * 3600.0;

// "1:05" for 65 seconds, "1:05.5" for 65.5: how messages show a keyframe's time.
std::string clock_text(double seconds);

const std::vector<EngineSettingSpec>& engine_setting_specs();

// "--period must be between 1 and 120 seconds (got 500)" (kFlag) or "period must be ..." (kJson).
std::string range_message(const EngineSettingSpec& spec, SettingNames names, double got);
// The range part alone: "between 1 and 120 seconds", "0 (off) or between 4 and 64, a whole number".
std::string range_text(const EngineSettingSpec& spec);
// True when `v` is an allowed value of the number setting `spec`.
bool in_range(const EngineSettingSpec& spec, double v);

// Throws std::invalid_argument naming the setting (as `names` says) when a value is out of
// range, a curve is malformed, or two settings cannot go together.
void validate(const EngineSettings& s, SettingNames names = SettingNames::kFlag);
// The same checks for one curve (what validate() runs for each).
void validate_curve(const EngineSettingSpec& spec, const Keyframes& keys, SettingNames names);

}  // namespace sy::engine
