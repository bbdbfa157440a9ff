#include "engine/design/loudness_fit.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <stdexcept>

#include "engine/design/frequency_response.h"

namespace sy::engine {

namespace {

// K-weighted energy per direction of the grid, for pink noise: the mid (both sources the
// same signal) and the side (opposite signals, through the side equaliser), each summed
// over both ears.
struct PairEnergy {
  std::vector<double> mid, side;
};

PairEnergy pair_energy(const BinauralFilters& out, double rate, double low_hz, double width,
                       const std::vector<Bearing>& grid) {
  const AmbisonicBasis basis = out.basis;
  const std::size_t k_count = out.channel_filters.size();
  // Pink noise has equal power per octave: equal weights on a log-spaced grid.
  constexpr int kFreqs = 48;
  const double f_low = std::max(100.0, low_hz), f_high = std::min(16000.0, 0.45 * rate);
  std::vector<std::complex<double>> spectra(k_count * kFreqs);
  std::vector<double> weight(kFreqs), side_power(kFreqs);
  for (int j = 0; j < kFreqs; ++j) {
    const double f = f_low * std::pow(f_high / f_low, j / (kFreqs - 1.0));
    weight[static_cast<std::size_t>(j)] = k_weighting_magnitude(f) * k_weighting_magnitude(f);
    side_power[static_cast<std::size_t>(j)] = power_gain(out.side_equaliser, 2.0 * std::numbers::pi * f / rate);
    for (std::size_t k = 0; k < k_count; ++k)
      spectra[k * kFreqs + static_cast<std::size_t>(j)] =
          response_at(out.channel_filters[k], 2.0 * std::numbers::pi * f / rate);
  }
  PairEnergy e{std::vector<double>(grid.size(), 0.0), std::vector<double>(grid.size(), 0.0)};
  std::vector<float> g(k_count), g2(k_count);
  for (std::size_t d = 0; d < grid.size(); ++d) {
    ambisonic_gains(basis, grid[d].azimuth + 0.5 * width, grid[d].elevation, g.data());
    ambisonic_gains(basis, grid[d].azimuth - 0.5 * width, grid[d].elevation, g2.data());
    for (std::size_t j = 0; j < kFreqs; ++j) {
      std::complex<double> even[2] = {0, 0}, odd[2] = {0, 0};
      for (std::size_t k = 0; k < k_count; ++k) {
        const bool is_odd = ambisonic_channel_is_odd(basis, k);
        (is_odd ? odd[0] : even[0]) += double{g[k]} * spectra[k * kFreqs + j];
        (is_odd ? odd[1] : even[1]) += double{g2[k]} * spectra[k * kFreqs + j];
      }
      const std::complex<double> l[2] = {even[0] + odd[0], even[1] + odd[1]};
      const std::complex<double> r[2] = {even[0] - odd[0], even[1] - odd[1]};
      e.mid[d] += weight[j] * (std::norm(l[0] + l[1]) + std::norm(r[0] + r[1]));
      e.side[d] += weight[j] * side_power[j] * (std::norm(l[0] - l[1]) + std::norm(r[0] - r[1]));
    }
  }
  return e;
}

// Least-squares fit of `target` over the grid's directions in the basis, through the normal
// equations (Y Y^T) c = Y t.
std::vector<float> fit_in_basis(AmbisonicBasis basis, const std::vector<Bearing>& grid, const std::vector<double>& target) {
  const std::size_t k_count = ambisonic_channels(basis);
  const auto k_rows = static_cast<Eigen::Index>(k_count);
  const auto d_cols = static_cast<Eigen::Index>(grid.size());
  Eigen::MatrixXd y(k_rows, d_cols);
  Eigen::VectorXd t(d_cols);
  std::vector<float> g(k_count);
  for (Eigen::Index d = 0; d < d_cols; ++d) {
    const Bearing& dir = grid[static_cast<std::size_t>(d)];
    ambisonic_gains(basis, dir.azimuth, dir.elevation, g.data());
    for (Eigen::Index k = 0; k < k_rows; ++k) y(k, d) = double{g[static_cast<std::size_t>(k)]};
    t(d) = target[static_cast<std::size_t>(d)];
  }
  const Eigen::LLT<Eigen::MatrixXd> gram((y * y.transpose()).eval());
  if (gram.info() != Eigen::Success) throw std::runtime_error("singular fit over the directions");
  const Eigen::VectorXd fit = gram.solve(y * t);
  std::vector<float> out(k_count);
  for (std::size_t k = 0; k < k_count; ++k) out[k] = static_cast<float>(fit(static_cast<Eigen::Index>(k)));
  return out;
}

}  // namespace

void fit_loudness_correction(BinauralFilters& out, double rate, double low_hz, double width, bool mono_only) {
  const std::vector<Bearing> grid = layout_for(out.basis, 72, 400);
  const PairEnergy e = pair_energy(out, rate, low_hz, width, grid);
  std::vector<double> correction(grid.size());
  double mean_log = 0;
  for (std::size_t d = 0; d < grid.size(); ++d) {
    // Uncorrelated channels: the mid (L + R) / 2 and the side (L - R) / 2 are uncorrelated
    // too, each with half the power.
    const double energy = mono_only ? e.mid[d] : e.mid[d] + 0.5 * (e.mid[d] + e.side[d]);
    correction[d] = -0.5 * std::log(energy);
    mean_log += correction[d] / static_cast<double>(grid.size());
  }
  // The gain relative to the mean level.
  for (double& c : correction) c = std::exp(c - mean_log);
  out.loudness_correction = fit_in_basis(out.basis, grid, correction);
}

void fit_side_gain(BinauralFilters& out, double rate, double low_hz, double width) {
  out.side_gain.clear();
  const std::vector<Bearing> grid = layout_for(out.basis, 72, 400);
  const PairEnergy e = pair_energy(out, rate, low_hz, width, grid);
  // Uncorrelated stereo carries half the mid's and sigma^2 times half the side's energy;
  // as loud as mono when sigma^2 = mid / side. Held within a factor of two either way.
  std::vector<double> sigma(grid.size());
  for (std::size_t d = 0; d < grid.size(); ++d)
    sigma[d] = e.side[d] > 0 ? std::clamp(std::sqrt(e.mid[d] / e.side[d]), 0.5, 2.0) : 1.0;
  out.side_gain = fit_in_basis(out.basis, grid, sigma);
  hold_within(out.basis, out.side_gain, kMinSideGain, kMaxSideGain);
}

void hold_within(AmbisonicBasis basis, std::vector<float>& coefficients, double low, double high) {
  const std::size_t k_count = ambisonic_channels(basis);
  if (coefficients.size() != k_count || !(0 < low && low < high))
    throw std::invalid_argument("hold_within: bad coefficients or bounds");
  // Far denser than the curve's 3rd order can turn in: 0.1 degrees on the circle, about
  // 1.4 degrees apart on the sphere (a curve held to [0.25, 4] moves < 0.2 between points).
  const std::vector<Bearing> grid = layout_for(basis, 3600, 20000);
  std::vector<float> g(k_count);
  // Channel 0 is the same from every direction: its term is the curve's mean over them all.
  ambisonic_gains(basis, 0.0, 0.0, g.data());
  const double mean = double{coefficients[0]} * double{g[0]};
  if (!(low < mean && mean < high)) throw std::runtime_error("fitted gain's mean is out of bounds");
  double lowest = mean, highest = mean;
  for (const Bearing& d : grid) {
    ambisonic_gains(basis, d.azimuth, d.elevation, g.data());
    double v = 0;
    for (std::size_t k = 0; k < k_count; ++k) v += double{coefficients[k]} * double{g[k]};
    lowest = std::min(lowest, v);
    highest = std::max(highest, v);
  }
  // The swing about the mean, scaled down (the shape kept) just enough to fit.
  double scale = 1.0;
  if (lowest < low) scale = std::min(scale, (mean - low) / (mean - lowest));
  if (highest > high) scale = std::min(scale, (high - mean) / (highest - mean));
  if (scale < 1.0)
    for (std::size_t k = 1; k < k_count; ++k) coefficients[k] = static_cast<float>(double{coefficients[k]} * scale);
}

}  // namespace sy::engine
