#include "engine/crossover.h"

#include <cmath>
#include <numbers>

namespace sy {

namespace {

// Second-order Butterworth (Q = 1/sqrt(2)) sections via the bilinear transform with
// prewarping; a hand-written biquad because it is a dozen lines and no Debian package
// offers a plain C++ one without a framework around it.
void butterworth(double sample_rate, double cutoff_hz, bool highpass, Biquad& f) {
  const double k = std::tan(std::numbers::pi * cutoff_hz / sample_rate);
  const double k2 = k * k;
  const double norm = 1.0 / (1.0 + std::numbers::sqrt2 * k + k2);
  if (highpass) {
    f.b0 = norm;
    f.b1 = -2.0 * norm;
    f.b2 = norm;
  } else {
    f.b0 = k2 * norm;
    f.b1 = 2.0 * k2 * norm;
    f.b2 = k2 * norm;
  }
  f.a1 = 2.0 * (k2 - 1.0) * norm;
  f.a2 = (1.0 - std::numbers::sqrt2 * k + k2) * norm;
  f.reset();
}

}  // namespace

void LinkwitzRiley4::prepare(double sample_rate, double cutoff_hz) {
  for (int i = 0; i < 2; ++i) {
    butterworth(sample_rate, cutoff_hz, false, low_[i]);
    butterworth(sample_rate, cutoff_hz, true, high_[i]);
  }
}

void LinkwitzRiley4::reset() noexcept {
  for (int i = 0; i < 2; ++i) {
    low_[i].reset();
    high_[i].reset();
  }
}

void LinkwitzRiley4::process(const float* in, float* low, float* high, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(in[i]);
    const double l = low_[1].tick(low_[0].tick(x));
    const double h = high_[1].tick(high_[0].tick(x));
    low[i] = static_cast<float>(l);
    high[i] = static_cast<float>(h);
  }
}

}  // namespace sy
