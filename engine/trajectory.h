#pragma once
// Where the sound is at each moment: pure functions of time, so a render does not depend
// on block sizes and every block boundary is as smooth as the path itself.
#include <cstddef>
#include <memory>
#include <vector>

#include "engine/curve.h"
#include "engine/settings.h"
#include "engine/spherical_harmonics.h"  // Bearing

namespace sy::engine {

// The song's beats, found before rendering (engine/beat_tracker.h) or laid out from a given
// tempo: what a beat-synced motion locks to.
struct BeatGrid {
  std::vector<double> beats;       // seconds from the start of the render, increasing
  std::size_t first_downbeat = 0;  // index of the first beat that starts a bar
};

// What the motion may know about the song besides the settings.
struct MotionContext {
  double duration_seconds = 0;      // the rendered length; 0: unknown (then no fade out)
  const BeatGrid* beats = nullptr;  // used when settings.beats_per_turn > 0 (not owned)
};

class MotionPath {
 public:
  virtual ~MotionPath() = default;
  // The centre of the pair of sources at `seconds` after the start. Continuous with a
  // continuous first derivative.
  virtual Bearing at(double seconds) const noexcept = 0;
  // True when the path leaves the horizontal plane (needs the full-sphere renderer).
  virtual bool elevated() const noexcept = 0;
};

// How far the motion has gone: turns after `seconds` (one turn is a revolution of the circle,
// a loop pair of the figure eight, four control points of the legacy path) and its rate.
class TurnCount {
 public:
  virtual ~TurnCount() = default;
  virtual double turns(double seconds) const noexcept = 0;
  virtual double rate(double seconds) const noexcept = 0;  // turns per second
};

// The count every path follows, from the settings:
// - beats_per_turn > 0 with a beat grid of at least two beats: one turn per that many beats,
//   turn boundaries (the front) on the first downbeat and every beats_per_turn beats after
//   it. The beat times are smoothed by a local straight-line fit over five beats (which
//   keeps a steady tempo exact and takes the tracker's frame-sized jitter out) and joined
//   by a monotone cubic, so a tempo change bends the speed, never the position.
// - else period_curve: the period changes smoothly between keyframes.
// - else one turn per period_seconds.
// fade_seconds > 0 eases the count in from a standstill at a whole turn (in front) and out
// to one at the end of the song (when its length is known); the speed never exceeds the
// body's. A beat-locked count keeps its lock: its ease-in ends at the first moment after
// fade_seconds at which it can land on the grid without overtaking it, and the ease-out
// starts at the last moment before the end minus fade_seconds at which it can stop in front
// (each at most about one and a half turns longer than asked).
std::unique_ptr<TurnCount> make_turn_count(const EngineSettings& settings, const MotionContext& context = {});

// circle: one revolution per turn, clockwise (seen from above: front, right, back, left) or
//   counter-clockwise; with elevation the orbit tilts, rising to +elevation on one side and
//   falling to -elevation on the other.
// figure-eight: a loop around the left ear then one around the right ear, crossing in
//   front; the loops reach +-elevation (30 degrees when that is 0).
// legacy: the reference system's random left/right drift: a random azimuth every quarter
//   turn (2 s at the default 8 s period), biased to the sides, alternating mostly,
//   Catmull-Rom interpolated; seeded by `seed` so renders repeat. Its fade scales the
//   azimuth towards the front instead (it never winds round).
// elevation_curve, when given, replaces elevation_degrees.
std::unique_ptr<MotionPath> make_motion_path(const EngineSettings& settings, const MotionContext& context = {});

// A setting over time: its curve when it has one, else its fixed value; times `scale`.
MonotoneCubic setting_over_time(const Keyframes& curve, double fixed, double scale = 1.0);

}  // namespace sy::engine
