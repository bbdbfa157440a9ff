#pragma once
// Where the sound is at each moment: pure functions of time, so a render does not depend
// on block sizes and every block boundary is as smooth as the path itself.
#include <memory>

#include "engine/settings.h"
#include "engine/spherical_harmonics.h"  // Bearing

namespace sy::engine {

class MotionPath {
 public:
  virtual ~MotionPath() = default;
  // The centre of the pair of sources at `seconds` after the start. Continuous with a
  // continuous first derivative.
  virtual Bearing at(double seconds) const noexcept = 0;
  // True when the path leaves the horizontal plane (needs the full-sphere renderer).
  virtual bool elevated() const noexcept = 0;
};

// circle: one revolution per period_seconds, clockwise (seen from above: front, right,
//   back, left) or counter-clockwise; with elevation_degrees the orbit tilts, rising to
//   +elevation on one side and falling to -elevation on the other.
// figure-eight: a loop around the left ear then one around the right ear, crossing in
//   front; the loops reach +-elevation_degrees (30 when that is 0).
// legacy: the reference system's random left/right drift: a random azimuth every
//   period/4 seconds (2 s at the default 8 s), biased to the sides, alternating mostly,
//   Catmull-Rom interpolated; seeded by `seed` so renders repeat.
std::unique_ptr<MotionPath> make_motion_path(const EngineSettings& settings);

}  // namespace sy::engine
