#include "engine/settings.h"

#include <algorithm>
#include <cctype>
#include <cmath>
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
  out << v;
  return out.str();
}

// NaN fails both comparisons, so it is rejected like any other out-of-range value.
void require_range(double value, double lo, double hi, const char* option, const char* unit) {
  if (value >= lo && value <= hi) return;
  std::string message = std::string(option) + " must be between " + format_number(lo) + " and " +
                        format_number(hi);
  if (unit[0] != '\0') message += std::string(" ") + unit;
  message += " (got " + format_number(value) + ")";
  throw std::invalid_argument(message);
}

}  // namespace

Trajectory parse_trajectory(const std::string& name) {
  const std::string n = lower(name);
  if (n == "circle") return Trajectory::kCircle;
  if (n == "figure8" || n == "figure-eight" || n == "figure-8") return Trajectory::kFigureEight;
  if (n == "legacy") return Trajectory::kLegacy;
  throw std::invalid_argument("--trajectory must be circle, figure8 or legacy (got '" + name + "')");
}

std::string trajectory_name(Trajectory t) {
  switch (t) {
    case Trajectory::kCircle: return "circle";
    case Trajectory::kFigureEight: return "figure8";
    case Trajectory::kLegacy: return "legacy";
  }
  return "circle";
}

Direction parse_direction(const std::string& name) {
  const std::string n = lower(name);
  if (n == "cw" || n == "clockwise") return Direction::kClockwise;
  if (n == "ccw" || n == "counterclockwise" || n == "counter-clockwise") {
    return Direction::kCounterClockwise;
  }
  throw std::invalid_argument("--direction must be cw or ccw (got '" + name + "')");
}

std::string direction_name(Direction d) {
  return d == Direction::kClockwise ? "cw" : "ccw";
}

// Ranges (documented in docs/ENGINE.md):
// - period 1..120 s: faster than one turn a second smears into vibrato, slower than two
//   minutes is no longer heard as motion;
// - elevation -45..45 degrees: the KEMAR set's usable elevation cue range;
// - width 0..180 degrees: from mono-centred to left/right opposite on the circle;
// - reverb, room size, damping 0..1;
// - bass crossover 0 (off) or 40..500 Hz: below 40 Hz leaves the bass swinging, above
//   500 Hz centres the vocals;
// - speed 0.5..1.5: varispeed beyond that is a different effect;
// - loudness -40..-5 LUFS, true peak -9..0 dBTP.
void validate(const EngineSettings& s) {
  require_range(s.period_seconds, 1.0, 120.0, "--period", "seconds");
  require_range(s.elevation_degrees, -45.0, 45.0, "--elevation", "degrees");
  require_range(s.width_degrees, 0.0, 180.0, "--width", "degrees");
  require_range(s.reverb, 0.0, 1.0, "--reverb", "");
  require_range(s.room_size, 0.0, 1.0, "--room-size", "");
  require_range(s.damping, 0.0, 1.0, "--damping", "");
  if (s.bass_crossover_hz != 0.0) {
    if (!(s.bass_crossover_hz >= 40.0 && s.bass_crossover_hz <= 500.0)) {
      throw std::invalid_argument("--bass-crossover must be 0 (off) or between 40 and 500 Hz (got " +
                                  format_number(s.bass_crossover_hz) + ")");
    }
  }
  require_range(s.speed, 0.5, 1.5, "--speed", "");
  require_range(s.loudness_lufs, -40.0, -5.0, "--loudness", "LUFS");
  require_range(s.true_peak_dbtp, -9.0, 0.0, "--true-peak", "dBTP");
}

}  // namespace sy::engine
