#include "engine/trajectory.h"

#include <cmath>
#include <cstdint>
#include <numbers>

namespace sy::engine {

namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kDegree = kPi / 180.0;

class CirclePath final : public MotionPath {
 public:
  CirclePath(double period, double sign, double elevation) : omega_(2.0 * kPi / period), sign_(sign), elevation_(elevation) {}
  Bearing at(double t) const noexcept override {
    const double phase = omega_ * t;
    return {sign_ * phase, elevation_ * std::sin(phase)};
  }
  bool elevated() const noexcept override { return elevation_ != 0.0; }

 private:
  double omega_, sign_, elevation_;
};

class FigureEightPath final : public MotionPath {
 public:
  FigureEightPath(double period, double sign, double elevation) : omega_(2.0 * kPi / period), sign_(sign), elevation_(elevation) {}
  Bearing at(double t) const noexcept override {
    const double phase = omega_ * t;
    return {sign_ * kPi * std::sin(phase), elevation_ * std::sin(2.0 * phase)};
  }
  bool elevated() const noexcept override { return true; }

 private:
  double omega_, sign_, elevation_;
};

// Random access into a repeatable random sequence: control point i depends only on
// (seed, i), so the path needs no state and no storage.
std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
double uniform(std::uint64_t seed, std::uint64_t index, std::uint64_t stream) {
  return static_cast<double>(mix(mix(seed * 4 + stream) ^ index) >> 11) * 0x1.0p-53;
}

class LegacyPath final : public MotionPath {
 public:
  LegacyPath(double spacing, unsigned seed) : spacing_(spacing), seed_(seed) {}
  Bearing at(double t) const noexcept override {
    const double u = std::max(0.0, t) / spacing_;
    const auto i = static_cast<std::int64_t>(std::floor(u));
    const double f = u - static_cast<double>(i);
    const double p0 = point(i - 1), p1 = point(i), p2 = point(i + 1), p3 = point(i + 2);
    // Catmull-Rom: passes through the control points with a continuous slope.
    const double az = p1 + 0.5 * f * (p2 - p0 + f * (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3 + f * (3.0 * (p1 - p2) + p3 - p0)));
    return {az, 0.0};
  }
  bool elevated() const noexcept override { return false; }

 private:
  // The side mostly alternates (3 times in 4 the point sits on the other side of the
  // previous one's default) and the angle is 40..100 degrees off centre: the left/right
  // sway people knew, but with time and level cues.
  double side(std::int64_t i) const noexcept {
    const double alternate = (i % 2 == 0) ? -1.0 : 1.0;
    return uniform(seed_, static_cast<std::uint64_t>(i), 0) < 0.25 ? -alternate : alternate;
  }
  double point(std::int64_t i) const noexcept {
    if (i <= 0) return 0.0;  // start in front
    return side(i) * (40.0 + 60.0 * uniform(seed_, static_cast<std::uint64_t>(i), 1)) * kDegree;
  }

  double spacing_;
  std::uint64_t seed_;
};

}  // namespace

std::unique_ptr<MotionPath> make_motion_path(const EngineSettings& s) {
  const double sign = s.direction == Direction::kClockwise ? -1.0 : 1.0;
  switch (s.trajectory) {
    case Trajectory::kFigureEight: {
      const double e = s.elevation_degrees != 0.0 ? s.elevation_degrees : 30.0;
      return std::make_unique<FigureEightPath>(s.period_seconds, sign, e * kDegree);
    }
    case Trajectory::kLegacy:
      return std::make_unique<LegacyPath>(s.period_seconds / 4.0, s.seed);
    case Trajectory::kCircle:
      break;
  }
  return std::make_unique<CirclePath>(s.period_seconds, sign, s.elevation_degrees * kDegree);
}

}  // namespace sy::engine
