#include "engine/spherical_harmonics.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace sy::engine {

namespace {
constexpr double kPi = std::numbers::pi;
}  // namespace

std::size_t ambisonic_channels(AmbisonicBasis basis) noexcept {
  return basis == AmbisonicBasis::kHorizontal ? 2 * kAmbisonicOrder + 1
                                              : (kAmbisonicOrder + 1) * (kAmbisonicOrder + 1);
}

int ambisonic_channel_order(AmbisonicBasis basis, std::size_t channel) noexcept {
  if (basis == AmbisonicBasis::kHorizontal) return static_cast<int>((channel + 1) / 2);
  return static_cast<int>(std::sqrt(static_cast<double>(channel)) + 1e-9);
}

bool ambisonic_channel_is_odd(AmbisonicBasis basis, std::size_t channel) noexcept {
  if (basis == AmbisonicBasis::kHorizontal) return channel != 0 && channel % 2 == 0;  // sin terms
  const int l = ambisonic_channel_order(basis, channel);
  const int m = static_cast<int>(channel) - l * l - l;
  return m < 0;
}

namespace {
// Sine and cosine of one angle in one libm call. GCC merges std::sin and std::cos of the same
// angle only where it optimises a block for speed, which changes with the rest of the file
// (the renderer computes gains every 32 frames, so the call shows in its profile).
void sin_cos(double x, double* s, double* c) noexcept {
#if defined(__GNUC__) && !defined(__clang__)
  __builtin_sincos(x, s, c);
#else
  *s = std::sin(x);
  *c = std::cos(x);
#endif
}
}  // namespace

DirectionCosines direction_cosines(double azimuth, double elevation) noexcept {
  DirectionCosines d;
  sin_cos(azimuth, &d.sin_azimuth, &d.cos_azimuth);
  if (elevation != 0.0) sin_cos(elevation, &d.sin_elevation, &d.cos_elevation);
  return d;
}

DirectionCosines turned(const DirectionCosines& d, double cos_angle, double sin_angle) noexcept {
  DirectionCosines out = d;
  out.cos_azimuth = d.cos_azimuth * cos_angle - d.sin_azimuth * sin_angle;
  out.sin_azimuth = d.sin_azimuth * cos_angle + d.cos_azimuth * sin_angle;
  return out;
}

void ambisonic_gains(AmbisonicBasis basis, double azimuth, double elevation, float* g) noexcept {
  // The circular harmonics ignore the elevation: no need to take its sine and cosine.
  ambisonic_gains(basis, direction_cosines(azimuth, basis == AmbisonicBasis::kHorizontal ? 0.0 : elevation), g);
}

void ambisonic_gains(AmbisonicBasis basis, const DirectionCosines& d, float* g) noexcept {
  if (basis == AmbisonicBasis::kHorizontal) {
    // cos(m a), sin(m a) by the angle-addition recurrence from one sine and cosine.
    const double s2 = std::numbers::sqrt2;
    const double c1 = d.cos_azimuth, s1 = d.sin_azimuth;
    double c = 1.0, s = 0.0;
    g[0] = 1.0f;
    for (int m = 1; m <= kAmbisonicOrder; ++m) {
      const double next_c = c * c1 - s * s1;
      s = s * c1 + c * s1;
      c = next_c;
      g[2 * m - 1] = static_cast<float>(s2 * c);
      g[2 * m] = static_cast<float>(s2 * s);
    }
    return;
  }
  // Real spherical harmonics in ACN order with N3D normalisation, written out in Cartesian
  // form (x front, y left, z up). Hand-written: sixteen fixed polynomials; the standard
  // library's std::sph_legendre would need the same normalisation and sign work around it.
  const double x = d.cos_elevation * d.cos_azimuth, y = d.cos_elevation * d.sin_azimuth, z = d.sin_elevation;
  const double s3 = std::sqrt(3.0), s15 = std::sqrt(15.0), s5 = std::sqrt(5.0);
  const double s35_8 = std::sqrt(35.0 / 8.0), s105 = std::sqrt(105.0), s21_8 = std::sqrt(21.0 / 8.0),
               s7 = std::sqrt(7.0);
  const double v[16] = {
      1.0,
      s3 * y, s3 * z, s3 * x,
      s15 * x * y, s15 * y * z, s5 / 2 * (3 * z * z - 1), s15 * x * z, s15 / 2 * (x * x - y * y),
      s35_8 * y * (3 * x * x - y * y), s105 * x * y * z, s21_8 * y * (5 * z * z - 1),
      s7 / 2 * z * (5 * z * z - 3), s21_8 * x * (5 * z * z - 1), s105 / 2 * z * (x * x - y * y),
      s35_8 * x * (x * x - 3 * y * y)};
  for (int i = 0; i < 16; ++i) g[i] = static_cast<float>(v[i]);
}

std::vector<Bearing> horizontal_layout(std::size_t count) {
  std::vector<Bearing> dirs;
  for (std::size_t s = 0; s < count; ++s)
    dirs.push_back({2.0 * kPi * static_cast<double>(s) / static_cast<double>(count), 0.0});
  return dirs;
}

std::vector<Bearing> sphere_layout(std::size_t count) {
  const std::size_t half = std::max<std::size_t>(count / 2, 16);
  const double golden = kPi * (3.0 - std::sqrt(5.0));
  std::vector<Bearing> dirs;
  for (std::size_t i = 0; i < half; ++i) {
    const double z = 1.0 - (2.0 * static_cast<double>(i) + 1.0) / static_cast<double>(half);
    const double az = std::remainder(golden * static_cast<double>(i), 2.0 * kPi);
    const double el = std::asin(z);
    dirs.push_back({az, el});
    dirs.push_back({-az, el});
  }
  return dirs;
}

std::vector<Bearing> layout_for(AmbisonicBasis basis, std::size_t horizontal_count, std::size_t sphere_count) {
  return basis == AmbisonicBasis::kHorizontal ? horizontal_layout(horizontal_count) : sphere_layout(sphere_count);
}

}  // namespace sy::engine
