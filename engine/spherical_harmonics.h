#pragma once
// The ambisonic basis: 3rd-order circular or spherical harmonics, and sets of directions
// that sample the circle or the sphere evenly.
#include <cstddef>
#include <vector>

namespace sy::engine {

// kHorizontal: 3rd-order circular harmonics, 7 channels, for paths in the horizontal plane.
// kSphere: full 3rd-order spherical harmonics, 16 channels (ACN), for paths that rise.
enum class AmbisonicBasis { kHorizontal, kSphere };

inline constexpr int kAmbisonicOrder = 3;
std::size_t ambisonic_channels(AmbisonicBasis basis) noexcept;
// Order (0..3) of a channel, for per-order weights.
int ambisonic_channel_order(AmbisonicBasis basis, std::size_t channel) noexcept;
// True when the channel changes sign when left and right swap (y -> -y).
bool ambisonic_channel_is_odd(AmbisonicBasis basis, std::size_t channel) noexcept;

// Orthonormal gains (mean square 1 over the circle or the sphere) for a direction in
// radians: azimuth counter-clockwise from the front, elevation up.
void ambisonic_gains(AmbisonicBasis basis, double azimuth, double elevation, float* gains) noexcept;

// A direction given by the cosines and sines of its azimuth and elevation: a caller that
// turns one direction by a fixed angle gets the new ones by angle addition, without new
// calls to sin and cos.
struct DirectionCosines {
  double cos_azimuth = 1, sin_azimuth = 0;
  double cos_elevation = 1, sin_elevation = 0;
};
DirectionCosines direction_cosines(double azimuth, double elevation) noexcept;
// The direction turned by an angle whose cosine and sine are given (counter-clockwise).
DirectionCosines turned(const DirectionCosines& d, double cos_angle, double sin_angle) noexcept;
void ambisonic_gains(AmbisonicBasis basis, const DirectionCosines& d, float* gains) noexcept;

// Azimuth counter-clockwise from the front (pi/2 = left) and elevation, in radians.
struct Bearing {
  double azimuth = 0;
  double elevation = 0;
};

// `count` directions evenly around the horizon, the first straight ahead.
std::vector<Bearing> horizontal_layout(std::size_t count);
// About `count` near-uniform directions on the sphere (at least 32): a golden-angle spiral
// and its mirror image, so the set is left/right symmetric like the head.
std::vector<Bearing> sphere_layout(std::size_t count);
// What evenly samples every direction a basis can produce: the horizon or the sphere.
std::vector<Bearing> layout_for(AmbisonicBasis basis, std::size_t horizontal_count, std::size_t sphere_count);

}  // namespace sy::engine
