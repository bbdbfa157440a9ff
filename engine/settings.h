#pragma once
// Everything a user can set about the 8D sound. Presets are named values of this struct.
#include <string>

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

// Throws std::invalid_argument naming the field when a value is out of range.
void validate(const EngineSettings& s);

}  // namespace sy::engine
