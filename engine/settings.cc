#include "engine/settings.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace sy::engine {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string format_number(double v) {
  std::ostringstream out;
  out << std::setprecision(12) << v;
  return out.str();
}

// Each choice's names, in its enum's order: what presets, messages and the schema print.
// Input is matched without case, also against the other spellings after each.
template <class E>
struct Alias {
  std::string_view spelling;
  E value;
};

constexpr std::array<std::string_view, 3> kTrajectories{"circle", "figure8", "legacy"};
constexpr std::array<Alias<Trajectory>, 2> kTrajectoryAliases{
    {{"figure-eight", Trajectory::kFigureEight}, {"figure-8", Trajectory::kFigureEight}}};
constexpr std::array<std::string_view, 2> kDirections{"cw", "ccw"};
constexpr std::array<Alias<Direction>, 3> kDirectionAliases{{{"clockwise", Direction::kClockwise},
                                                             {"counterclockwise", Direction::kCounterClockwise},
                                                             {"counter-clockwise", Direction::kCounterClockwise}}};
constexpr std::array<std::string_view, 3> kVocals{"circle", "center", "narrow"};
constexpr std::array<Alias<Vocals>, 1> kVocalsAliases{{{"centre", Vocals::kCenter}}};

template <class E, std::size_t N, std::size_t A>
E parse_choice(const std::string& name, const std::array<std::string_view, N>& names,
               const std::array<Alias<E>, A>& aliases) {
  const std::string n = lower(name);
  for (std::size_t i = 0; i < N; ++i)
    if (n == names[i]) return static_cast<E>(i);
  for (const Alias<E>& a : aliases)
    if (n == a.spelling) return a.value;
  std::string expected(names[0]);
  for (std::size_t i = 1; i < N; ++i) expected.append(i + 1 == N ? " or " : ", ").append(names[i]);
  throw std::invalid_argument("must be " + expected + " (got '" + name + "')");
}

template <class E, std::size_t N>
std::string choice_name(E value, const std::array<std::string_view, N>& names) {
  return std::string(names.at(static_cast<std::size_t>(value)));
}

std::vector<EngineSettingSpec> make_specs() {
  using S = EngineSettings;
  std::vector<EngineSettingSpec> rows;
  // Every row has its two names and its sentence; the kinds below add what they hold.
  auto row = [&rows](std::string_view json, std::string_view flag, std::string_view help) -> EngineSettingSpec& {
    EngineSettingSpec& r = rows.emplace_back();
    r.json = json;
    r.flag = flag;
    r.help = help;
    return r;
  };
  auto number = [&row](std::string_view json, std::string_view flag, double S::*field, double min, double max,
                       std::string_view unit, std::string_view help) -> EngineSettingSpec& {
    EngineSettingSpec& r = row(json, flag, help);
    r.number = field;
    r.min = min;
    r.max = max;
    r.unit = unit;
    return r;
  };
  auto choice = [&row](std::string_view json, std::string_view flag, std::span<const std::string_view> names,
                       std::string (*get)(const S&), void (*set)(S&, const std::string&), std::string_view help) {
    EngineSettingSpec& r = row(json, flag, help);
    r.choices = names;
    r.get_choice = get;
    r.set_choice = set;
  };
  // The ranges, and why (docs/ENGINE.md):
  choice("trajectory", "--trajectory", kTrajectories, [](const S& s) { return trajectory_name(s.trajectory); },
         [](S& s, const std::string& v) { s.trajectory = parse_trajectory(v); },
         "Path of the sound: a circle, a figure eight, or the old converter's random left/right path.");
  // Faster than one turn a second smears into vibrato; slower than two minutes is no longer
  // heard as motion.
  number("period", "--period", &S::period_seconds, 1, 120, "seconds",
         "Seconds for one revolution around the head.");
  choice("direction", "--direction", kDirections, [](const S& s) { return direction_name(s.direction); },
         [](S& s, const std::string& v) { s.direction = parse_direction(v); },
         "Direction of rotation seen from above: cw (clockwise) or ccw.");
  // The KEMAR set's usable range of elevation cues.
  number("elevation", "--elevation", &S::elevation_degrees, -45, 45, "degrees",
         "How far the path rises above and dips below the ears.");
  // From mono-centred to left and right opposite on the circle.
  number("width", "--width", &S::width_degrees, 0, 180, "degrees",
         "Angle between the song's left and right channels as they circle together.");
  number("reverb", "--reverb", &S::reverb, 0, 1, "",
         "Level of the room around you; 0 turns the room off.");
  number("roomSize", "--room-size", &S::room_size, 0, 1, "", "Size of the room.");
  number("damping", "--damping", &S::damping, 0, 1, "",
         "How much the room's walls absorb high frequencies.");
  // Below 40 Hz the bass would still swing; above 500 Hz the vocals would be centred too.
  number("bassCrossover", "--bass-crossover", &S::bass_crossover_hz, 40, 500, "Hz",
         "Below this frequency the sound stays centred instead of circling; 0 turns it off.")
      .off_at_zero = true;
  // Varispeed beyond this is a different effect.
  number("speed", "--speed", &S::speed, 0.5, 1.5, "",
         "Playback speed with the matching change of pitch, e.g. 0.85 for a slowed sound.");
  number("loudness", "--loudness", &S::loudness_lufs, -40, -5, "LUFS",
         "Integrated loudness of the result (EBU R128).");
  number("truePeak", "--true-peak", &S::true_peak_dbtp, -9, 0, "dBTP",
         "Ceiling of the look-ahead limiter: no peak of the result goes above it.");
  EngineSettingSpec& seed = row("seed", "--seed", "Random seed of the legacy path, so a render can be repeated exactly.");
  seed.min = 0;
  seed.max = 4294967295.0;
  seed.integer = true;
  seed.get_integer = [](const S& s) { return static_cast<double>(s.seed); };
  seed.set_integer = [](S& s, double v) { s.seed = static_cast<unsigned>(v); };

  // Beat sync. Fewer than 4 beats a turn spins faster than the ear follows at most tempos;
  // 64 beats is a turn per 16 bars, about the longest phrase of a song.
  number("beatsPerTurn", "--beats-per-turn", &S::beats_per_turn, 4, 64, "beats",
         "One revolution every this many beats, passing the front on the downbeats; 0 turns beat sync off.")
      .off_at_zero = true;
  rows.back().integer = true;
  // The tempo range the tracker is built for (dance music to slow ballads).
  number("bpm", "--bpm", &S::bpm, 40, 250, "BPM",
         "The song's tempo, instead of detecting it (with beat sync); 0 detects it.")
      .off_at_zero = true;
  // Up to a minute: longer is no longer an ease but a different motion.
  number("fade", "--fade", &S::fade_seconds, 0, 60, "seconds",
         "The motion eases in at the start and out at the end; the sound starts and ends in front.");
  choice("vocals", "--vocals", kVocals, [](const S& s) { return vocals_name(s.vocals); },
         [](S& s, const std::string& v) { s.vocals = parse_vocals(v); },
         "What the two channels share (usually the voice): circle with the rest, stay in front (center), "
         "or sway on a narrow arc in front (narrow).");

  // Curves over time: each varies one number setting and takes its range. The number rows
  // they point to are looked up after the table is complete (the vector may move).
  auto curve = [&row](std::string_view json, std::string_view flag, Keyframes S::*field, std::string_view help) {
    row(json, flag, help).curve = field;
  };
  curve("curves.period", "--period-curve", &S::period_curve,
        "Seconds per revolution over time, e.g. \"0:00=10, 1:00=6, 2:30=10\" (smooth between keyframes).");
  curve("curves.width", "--width-curve", &S::width_curve, "Width over time, as keyframes like --period-curve.");
  curve("curves.elevation", "--elevation-curve", &S::elevation_curve,
        "Elevation over time, as keyframes like --period-curve.");
  curve("curves.reverb", "--reverb-curve", &S::reverb_curve, "Room level over time, as keyframes like --period-curve.");
  return rows;
}

// Points each curve row at the number row it varies and copies its unit and range.
std::vector<EngineSettingSpec> link_curves(std::vector<EngineSettingSpec> rows) {
  for (EngineSettingSpec& r : rows) {
    if (!r.is_curve()) continue;
    for (const EngineSettingSpec& n : rows)
      if (n.number != nullptr && n.json == r.curve_key()) r.varies = &n;
    r.unit = r.varies->unit;
    r.min = r.varies->min;
    r.max = r.varies->max;
  }
  return rows;
}

}  // namespace

Trajectory parse_trajectory(const std::string& name) {
  return parse_choice(name, kTrajectories, kTrajectoryAliases);
}
std::string trajectory_name(Trajectory t) { return choice_name(t, kTrajectories); }

Direction parse_direction(const std::string& name) { return parse_choice(name, kDirections, kDirectionAliases); }
std::string direction_name(Direction d) { return choice_name(d, kDirections); }

Vocals parse_vocals(const std::string& name) { return parse_choice(name, kVocals, kVocalsAliases); }
std::string vocals_name(Vocals v) { return choice_name(v, kVocals); }

std::string clock_text(double seconds) {
  const double whole_minutes = std::floor(seconds / 60);
  const double rest = seconds - 60 * whole_minutes;
  std::ostringstream out;
  out << static_cast<long long>(whole_minutes) << ':' << (rest < 10 ? "0" : "") << std::setprecision(6) << rest;
  return out.str();
}

const std::vector<EngineSettingSpec>& engine_setting_specs() {
  // The curve rows point into this vector: it is made once and never changes.
  static const std::vector<EngineSettingSpec> rows = link_curves(make_specs());
  return rows;
}

std::string range_text(const EngineSettingSpec& spec) {
  std::string text = spec.off_at_zero ? "0 (off) or " : "";
  text += "between " + format_number(spec.min) + " and " + format_number(spec.max);
  if (!spec.unit.empty()) text += " " + std::string(spec.unit);
  if (spec.integer) text += ", a whole number";
  return text;
}

std::string range_message(const EngineSettingSpec& spec, SettingNames names, double got) {
  return std::string(spec.name(names)) + " must be " + range_text(spec) + " (got " + format_number(got) + ")";
}

bool in_range(const EngineSettingSpec& spec, double v) {
  if (spec.off_at_zero && v == 0.0) return true;
  if (spec.integer && std::floor(v) != v) return false;
  // NaN fails both comparisons, so it is rejected like any other out-of-range value.
  return v >= spec.min && v <= spec.max;
}

void validate_curve(const EngineSettingSpec& spec, const Keyframes& keys, SettingNames names) {
  const std::string name(spec.name(names));
  if (keys.empty()) return;
  if (keys.size() > kMaxKeyframes)
    throw std::invalid_argument(name + " takes at most " + std::to_string(kMaxKeyframes) + " keyframes (got " +
                                std::to_string(keys.size()) + ")");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const Keyframe& k = keys[i];
    if (!(k.seconds >= 0 && k.seconds <= kMaxKeyframeSeconds))
      throw std::invalid_argument(name + " times must be between 0 and " + clock_text(kMaxKeyframeSeconds) +
                                  " (got " + format_number(k.seconds) + " seconds)");
    if (i > 0 && k.seconds == keys[i - 1].seconds)
      throw std::invalid_argument(name + " times must increase (two keyframes at " + clock_text(k.seconds) + ")");
    if (i > 0 && !(k.seconds > keys[i - 1].seconds))
      throw std::invalid_argument(name + " times must increase (" + clock_text(k.seconds) + " comes after " +
                                  clock_text(keys[i - 1].seconds) + ")");
    if (!in_range(*spec.varies, k.value))
      throw std::invalid_argument(name + " values must be " + range_text(spec) + " (got " +
                                  format_number(k.value) + " at " + clock_text(k.seconds) + ")");
  }
}

void validate(const EngineSettings& s, SettingNames names) {
  for (const EngineSettingSpec& spec : engine_setting_specs()) {
    if (spec.is_curve()) validate_curve(spec, s.*spec.curve, names);
    if (spec.number == nullptr) continue;
    const double v = s.*spec.number;
    if (!in_range(spec, v)) throw std::invalid_argument(range_message(spec, names, v));
  }
  auto name = [names](std::string_view json) -> std::string {
    for (const EngineSettingSpec& spec : engine_setting_specs())
      if (spec.json == json) return std::string(spec.name(names));
    return std::string(json);
  };
  // Beat sync sets the speed; a period curve would set it too.
  if (s.beats_per_turn > 0 && !s.period_curve.empty())
    throw std::invalid_argument(name("curves.period") + " cannot be used with " + name("beatsPerTurn") +
                                " (the beat sets the speed)");
  if (s.bpm > 0 && s.beats_per_turn == 0)
    throw std::invalid_argument(name("bpm") + " needs " + name("beatsPerTurn") + " (the tempo is for beat sync)");
}

}  // namespace sy::engine
