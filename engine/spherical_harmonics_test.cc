#include "engine/spherical_harmonics.h"

#include <cmath>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

namespace sy::engine {
namespace {

constexpr double kPi = std::numbers::pi;

// Orthonormality is what makes the mode-matching decoder and the loudness fit exact.
TEST(SphericalHarmonicsTest, GainsAreOrthonormal) {
  for (AmbisonicBasis basis : {AmbisonicBasis::kHorizontal, AmbisonicBasis::kSphere}) {
    const std::size_t k = ambisonic_channels(basis);
    std::vector<double> gram(k * k, 0.0);
    std::vector<float> g(k);
    double weight_sum = 0;
    const int n_el = basis == AmbisonicBasis::kHorizontal ? 1 : 90;
    for (int e = 0; e < n_el; ++e) {
      const double el = n_el == 1 ? 0.0 : -kPi / 2 + kPi * (e + 0.5) / n_el;
      const double w = std::cos(el);  // area element
      for (int a = 0; a < 180; ++a) {
        ambisonic_gains(basis, 2 * kPi * a / 180.0, el, g.data());
        for (std::size_t i = 0; i < k; ++i)
          for (std::size_t j = 0; j < k; ++j) gram[i * k + j] += w * double{g[i]} * double{g[j]};
        weight_sum += w;
      }
    }
    for (std::size_t i = 0; i < k; ++i)
      for (std::size_t j = 0; j < k; ++j)
        EXPECT_NEAR(gram[i * k + j] / weight_sum, i == j ? 1.0 : 0.0, 2e-3) << i << "," << j;
  }
}

TEST(SphericalHarmonicsTest, OddChannelsFlipWithLeftAndRight) {
  for (AmbisonicBasis basis : {AmbisonicBasis::kHorizontal, AmbisonicBasis::kSphere}) {
    const std::size_t k = ambisonic_channels(basis);
    std::vector<float> a(k), b(k);
    ambisonic_gains(basis, 0.7, 0.3, a.data());
    ambisonic_gains(basis, -0.7, 0.3, b.data());
    for (std::size_t i = 0; i < k; ++i)
      EXPECT_NEAR(b[i], ambisonic_channel_is_odd(basis, i) ? -a[i] : a[i], 1e-5) << i;
  }
}

// The layouts the design samples with are left/right symmetric like the head.
TEST(SphericalHarmonicsTest, LayoutsAreMirrorSymmetric) {
  for (AmbisonicBasis basis : {AmbisonicBasis::kHorizontal, AmbisonicBasis::kSphere}) {
    const std::vector<Bearing> dirs = layout_for(basis, 8, 64);
    EXPECT_EQ(dirs.size(), basis == AmbisonicBasis::kHorizontal ? 8u : 64u);
    for (const Bearing& d : dirs) {
      bool mirrored = false;
      for (const Bearing& e : dirs)
        mirrored |= std::abs(std::remainder(d.azimuth + e.azimuth, 2 * kPi)) < 1e-9 &&
                    std::abs(d.elevation - e.elevation) < 1e-9;
      EXPECT_TRUE(mirrored) << d.azimuth << " " << d.elevation;
    }
  }
}

}  // namespace
}  // namespace sy::engine
