#include "engine/design/level_match.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <stdexcept>

#include "engine/design/frequency_response.h"

namespace sy::engine {

namespace {
constexpr double kPi = std::numbers::pi;
}  // namespace

void match_level(BinauralFilters& out, double rate, double low_hz, double high_hz) {
  const std::vector<float>& omni = out.channel_filters[0];
  // Mean magnitude, and the delay as the slope of a line through the unwrapped phase.
  constexpr int kPoints = 9;
  double magnitude = 0;
  double previous_phase = 0, unwrapped = 0;
  double sum_f = 0, sum_p = 0, sum_ff = 0, sum_fp = 0;
  for (int j = 0; j < kPoints; ++j) {
    const double f = low_hz + (high_hz - low_hz) * j / (kPoints - 1);
    const std::complex<double> h = response_at(omni, 2.0 * kPi * f / rate);
    magnitude += std::abs(h) / kPoints;
    const double phase = std::arg(h);
    if (j == 0) {
      unwrapped = phase;
    } else {
      unwrapped += std::remainder(phase - previous_phase, 2.0 * kPi);
    }
    previous_phase = phase;
    sum_f += f;
    sum_p += unwrapped;
    sum_ff += f * f;
    sum_fp += f * unwrapped;
  }
  const double slope = (kPoints * sum_fp - sum_f * sum_p) / (kPoints * sum_ff - sum_f * sum_f);
  const double delay = -slope / (2.0 * kPi) * rate;
  out.low_frequency_delay =
      static_cast<std::size_t>(std::lround(std::clamp(delay, 0.0, static_cast<double>(omni.size()))));
  out.arrival_delay = out.low_frequency_delay;
  if (magnitude <= 0) throw std::runtime_error("HRTF set has no low-frequency response");
  const auto scale = static_cast<float>(1.0 / magnitude);
  for (auto& f : out.channel_filters)
    for (float& v : f) v *= scale;
}

void match_bass_path(BinauralFilters& out, double rate, double crossover_hz, double width) {
  const AmbisonicBasis basis = out.basis;
  const std::size_t k_count = out.channel_filters.size();
  // Frequencies from crossover / 2 to 4 x crossover; the upper half sets the level, the
  // lower (where both bands sound) the delay.
  constexpr int kFreqs = 16;
  std::vector<double> omega(kFreqs);
  std::vector<std::complex<double>> spectra(k_count * kFreqs);
  for (int j = 0; j < kFreqs; ++j) {
    const double f = 0.5 * crossover_hz * std::pow(8.0, j / (kFreqs - 1.0));
    omega[static_cast<std::size_t>(j)] = 2.0 * kPi * f / rate;
    for (std::size_t k = 0; k < k_count; ++k)
      spectra[k * kFreqs + static_cast<std::size_t>(j)] =
          response_at(out.channel_filters[k], omega[static_cast<std::size_t>(j)]);
  }
  // Average left-ear response to a mono input over the circle, as the renderer builds it.
  constexpr int kDirections = 72;
  std::vector<std::complex<double>> h(kFreqs);
  std::vector<double> power(kFreqs, 0.0);
  std::vector<float> centre(k_count), left(k_count), right(k_count);
  for (int d = 0; d < kDirections; ++d) {
    const double az = 2.0 * kPi * d / kDirections;
    ambisonic_gains(basis, az, 0.0, centre.data());
    double c = 0;
    for (std::size_t k = 0; k < k_count; ++k) c += double{out.loudness_correction[k]} * double{centre[k]};
    ambisonic_gains(basis, az + 0.5 * width, 0.0, left.data());
    ambisonic_gains(basis, az - 0.5 * width, 0.0, right.data());
    for (std::size_t j = 0; j < kFreqs; ++j) {
      std::complex<double> ear = 0;
      for (std::size_t k = 0; k < k_count; ++k)
        ear += 0.5 * c * (double{left[k]} + double{right[k]}) * spectra[k * kFreqs + j];
      h[j] += ear / static_cast<double>(kDirections);
      power[j] += std::norm(ear) / static_cast<double>(kDirections);
    }
  }
  // Unit level just above the crossover, where the rotating path alone carries the sound.
  double level = 0;
  for (std::size_t j = kFreqs / 3; j < kFreqs; ++j) level += std::abs(h[j]) / static_cast<double>(kFreqs - kFreqs / 3);
  if (level <= 0) return;
  const double scale = 1.0 / level;
  for (auto& f : out.channel_filters)
    for (float& v : f) v = static_cast<float>(double{v} * scale);
  for (auto& v : h) v *= scale;
  // The bass meets the rotating path's power, not its average over directions: that
  // average is lower (the ears' phase turns with direction) and left the bass 1.2 dB weak.
  double rms = 0;
  for (std::size_t j = kFreqs / 3; j < kFreqs; ++j) rms += power[j] * scale * scale / static_cast<double>(kFreqs - kFreqs / 3);
  out.bass_gain = static_cast<float>(std::sqrt(rms));
  // The delay that best lines the unit-gain bass up with it where both bands sound.
  double best_error = std::numeric_limits<double>::infinity();
  for (std::size_t delay = 0; delay < out.channel_filters[0].size() / 2; ++delay) {
    double error = 0;
    for (std::size_t j = 0; j < 2 * kFreqs / 3; ++j)
      error += std::norm(h[j] - std::polar(double{out.bass_gain}, -omega[j] * static_cast<double>(delay)));
    if (error < best_error) {
      best_error = error;
      out.low_frequency_delay = delay;
    }
  }
}

}  // namespace sy::engine
