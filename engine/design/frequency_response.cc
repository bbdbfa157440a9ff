#include "engine/design/frequency_response.h"

#include <numbers>

namespace sy::engine {

std::complex<double> response_at(std::span<const float> filter, double omega) {
  std::complex<double> sum = 0;
  for (std::size_t n = 0; n < filter.size(); ++n)
    sum += double{filter[n]} * std::polar(1.0, -omega * static_cast<double>(n));
  return sum;
}

double power_gain(std::span<const Biquad> sections, double omega) {
  const std::complex<double> z = std::polar(1.0, -omega);
  double power = 1.0;
  for (const Biquad& f : sections)
    power *= std::norm((f.b0 + f.b1 * z + f.b2 * z * z) / (1.0 + f.a1 * z + f.a2 * z * z));
  return power;
}

double k_weighting_magnitude(double hz) {
  const std::complex<double> z = std::polar(1.0, -2.0 * std::numbers::pi * hz / 48000.0);
  const std::complex<double> b = 1.53512485958697 - 2.69169618940638 * z + 1.19839281085285 * z * z;
  const std::complex<double> a = 1.0 - 1.69065929318241 * z + 0.73248077421585 * z * z;
  return std::abs(b / a);
}

}  // namespace sy::engine
