#include "engine/design/magnitude_fit.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <numbers>
#include <stdexcept>

#include "engine/design/spectrum.h"
#include "engine/hrtf.h"

namespace sy::engine {

namespace {

constexpr double kPi = std::numbers::pi;
using Complex = std::complex<double>;

// The measured head on the fitting grid, per bin: each direction's left-ear magnitude and
// the diffuse-field power of the ears' sum and difference.
struct Targets {
  std::vector<std::vector<double>> magnitude;  // direction x bin
  std::vector<double> sum_power, difference_power;
};

// The diffuse-field powers are averaged over the first `diffuse` directions of the grid (the
// evenly spread ones), the magnitudes are taken for all.
Targets measure_targets(HrtfSet& hrtf, const std::vector<Bearing>& grid, std::size_t diffuse, std::size_t n) {
  const std::size_t bins = n / 2 + 1;
  const std::size_t count = grid.size();
  std::vector<std::vector<Complex>> left(count), right(count);
  std::vector<float> l(hrtf.length()), r(hrtf.length());
  for (std::size_t d = 0; d < count; ++d) {
    hrtf.response(grid[d].azimuth * 180.0 / kPi, grid[d].elevation * 180.0 / kPi, l.data(), r.data());
    left[d] = real_spectrum(l, n);
    right[d] = real_spectrum(r, n);
  }
  Targets t;
  t.magnitude.assign(count, std::vector<double>(bins));
  t.sum_power.assign(bins, 0.0);
  t.difference_power.assign(bins, 0.0);
  for (std::size_t d = 0; d < count; ++d) {
    // The decoder's left ear serves the right ear of the mirror image (the head is taken as
    // symmetric): fit the power average of both, as the virtual loudspeakers do.
    std::size_t mirror = d;
    double closest = 1e9;
    for (std::size_t e = 0; e < count; ++e) {
      const double distance = std::abs(std::remainder(grid[e].azimuth + grid[d].azimuth, 2 * kPi)) +
                              std::abs(grid[e].elevation - grid[d].elevation);
      if (distance < closest) {
        closest = distance;
        mirror = e;
      }
    }
    for (std::size_t b = 0; b < bins; ++b) {
      t.magnitude[d][b] = std::sqrt(0.5 * (std::norm(left[d][b]) + std::norm(right[mirror][b])));
      if (d >= diffuse) continue;
      t.sum_power[b] += std::norm(0.5 * (left[d][b] + right[d][b])) / static_cast<double>(diffuse);
      t.difference_power[b] += std::norm(0.5 * (left[d][b] - right[d][b])) / static_cast<double>(diffuse);
    }
  }
  return t;
}

// Group delay (frames) of a spectrum from the slope of its unwrapped phase between two bins.
double group_delay(const std::vector<Complex>& spectrum, std::size_t from, std::size_t to, std::size_t n) {
  double unwrapped = std::arg(spectrum[from]), previous = unwrapped;
  double sum_x = 0, sum_y = 0, sum_xx = 0, sum_xy = 0;
  for (std::size_t b = from; b <= to; ++b) {
    const double phase = std::arg(spectrum[b]);
    if (b > from) unwrapped += std::remainder(phase - previous, 2 * kPi);
    previous = phase;
    const double omega = 2 * kPi * static_cast<double>(b) / static_cast<double>(n);
    sum_x += omega;
    sum_y += unwrapped;
    sum_xx += omega * omega;
    sum_xy += omega * unwrapped;
  }
  const auto count = static_cast<double>(to - from + 1);
  return -(count * sum_xy - sum_x * sum_y) / (count * sum_xx - sum_x * sum_x);
}

// The tilted circle at `peak` radians, both ways round (elevation +-peak sin(azimuth)): the
// decoder's left ear also serves the right ear of the mirror image, which travels the other
// way. Sampled between the 5-degree marks, so no fitted direction is one a test measures at.
std::vector<Bearing> orbit_directions(double peak) {
  constexpr int kSteps = 72;
  std::vector<Bearing> out;
  for (int i = 0; i < kSteps; ++i) {
    const double azimuth = 2 * kPi * (i + 0.5) / kSteps;
    out.push_back({azimuth, peak * std::sin(azimuth)});
    out.push_back({azimuth, -peak * std::sin(azimuth)});
  }
  return out;
}

}  // namespace

void fit_high_frequency_magnitudes(BinauralFilters& out, HrtfSet& hrtf, const BinauralDecoderDesign& design) {
  const AmbisonicBasis basis = out.basis;
  const std::size_t k_count = out.channel_filters.size();
  const double rate = hrtf.sample_rate();
  const std::size_t longest = std::max(hrtf.length(), out.channel_filters[0].size());
  const std::size_t n = std::max<std::size_t>(4096, std::bit_ceil(4 * longest));
  const std::size_t bins = n / 2 + 1;
  const double bin_hz = rate / static_cast<double>(n);
  const auto first = static_cast<std::size_t>(std::ceil(design.magnitude_fit_hz / bin_hz));
  if (first < 4 || first >= bins) throw std::invalid_argument("magnitude fit frequency out of range");

  // The least-squares filters, with their common delay taken out so the carried-on phase
  // (which stops turning once the magnitudes take over) does not pull the highs ahead of
  // the arrival; it goes back in at the end.
  std::vector<std::vector<Complex>> spectra(k_count);
  for (std::size_t k = 0; k < k_count; ++k) spectra[k] = real_spectrum(out.channel_filters[k], n);

  // The evenly spread grid first (the diffuse field is measured on it alone), then the
  // source's orbit when it is known.
  std::vector<Bearing> grid = layout_for(basis, 72, 400);
  const std::size_t even_count = grid.size();
  const bool orbit = basis == AmbisonicBasis::kSphere && design.orbit_elevation_degrees != 0 &&
                     design.orbit_weight > 0;
  if (orbit) {
    const std::vector<Bearing> path = orbit_directions(design.orbit_elevation_degrees * kPi / 180.0);
    grid.insert(grid.end(), path.begin(), path.end());
  }
  const auto d_count = static_cast<Eigen::Index>(grid.size());
  const auto even_rows = static_cast<Eigen::Index>(even_count);
  const auto k_rows = static_cast<Eigen::Index>(k_count);
  const Targets targets = measure_targets(hrtf, grid, even_count, n);

  // y(k, d): the basis on the grid; the weighted least-squares fit of values t on the grid
  // is pinv t with pinv = (y w y^T)^-1 y w.
  Eigen::MatrixXd y(k_rows, d_count);
  Eigen::VectorXd weight(d_count);
  const double orbit_share = orbit ? std::clamp(design.orbit_weight, 0.0, 1.0) : 0.0;
  std::vector<float> g(k_count);
  for (Eigen::Index d = 0; d < d_count; ++d) {
    ambisonic_gains(basis, grid[static_cast<std::size_t>(d)].azimuth, grid[static_cast<std::size_t>(d)].elevation,
                    g.data());
    for (Eigen::Index k = 0; k < k_rows; ++k) y(k, d) = double{g[static_cast<std::size_t>(k)]};
    weight(d) = d < even_rows ? (1.0 - orbit_share) / static_cast<double>(even_count)
                              : orbit_share / static_cast<double>(d_count - even_rows);
  }
  const Eigen::MatrixXd weighted = y * weight.asDiagonal();
  const Eigen::LLT<Eigen::MatrixXd> gram((weighted * y.transpose()).eval());
  if (gram.info() != Eigen::Success) throw std::runtime_error("singular magnitude fit");
  const Eigen::MatrixXd pinv = gram.solve(weighted);
  const Eigen::MatrixXd y_even = y.leftCols(even_rows);
  std::vector<bool> odd(k_count);
  for (std::size_t k = 0; k < k_count; ++k) odd[k] = ambisonic_channel_is_odd(basis, k);

  const double delay = group_delay(spectra[0], static_cast<std::size_t>(std::ceil(200.0 / bin_hz)), first, n);
  auto shift = [&](std::size_t b, double frames) {
    return std::polar(1.0, 2 * kPi * static_cast<double>(b) / static_cast<double>(n) * frames);
  };
  Eigen::VectorXcd fit(k_rows);
  for (Eigen::Index k = 0; k < k_rows; ++k)
    fit(k) = spectra[static_cast<std::size_t>(k)][first - 1] * shift(first - 1, delay);
  Eigen::VectorXcd target(d_count);
  for (std::size_t b = first; b < bins; ++b) {
    // Each direction keeps the phase the fit of the bin below gave it.
    const Eigen::VectorXcd previous = y.transpose() * fit;
    for (Eigen::Index d = 0; d < d_count; ++d) {
      const Complex p = previous(d);
      const double m = targets.magnitude[static_cast<std::size_t>(d)][b];
      target(d) = std::abs(p) > 0 ? m * p / std::abs(p) : Complex(m, 0.0);
    }
    const double mean = target.squaredNorm() / static_cast<double>(d_count);
    if (design.magnitude_fit_floor > 0 && mean > 0) {  // a bin silent everywhere: plain fit
      // Each direction's error relative to its own magnitude, as the ear hears it (in
      // decibels): a notch counts as much as a peak, down to the floor.
      Eigen::VectorXd relative(d_count);
      for (Eigen::Index d = 0; d < d_count; ++d)
        relative(d) = weight(d) * mean / (std::norm(target(d)) + design.magnitude_fit_floor * mean);
      const Eigen::MatrixXd yw = y * relative.asDiagonal();
      fit = (yw * y.transpose()).llt().solve(yw * target);
    } else {
      fit = pinv * target;
    }
    if (design.diffuse_coherence) {
      // Power of the ears' sum (even channels) and difference (odd channels) over the grid.
      Eigen::VectorXcd even = fit, odd_part = fit;
      for (Eigen::Index k = 0; k < k_rows; ++k) (odd[static_cast<std::size_t>(k)] ? even(k) : odd_part(k)) = 0.0;
      const double sum_power = (y_even.transpose() * even).squaredNorm() / static_cast<double>(even_rows);
      const double difference_power = (y_even.transpose() * odd_part).squaredNorm() / static_cast<double>(even_rows);
      const double even_gain = sum_power > 0 ? std::sqrt(targets.sum_power[b] / sum_power) : 1.0;
      const double odd_gain = difference_power > 0 ? std::sqrt(targets.difference_power[b] / difference_power) : 1.0;
      for (Eigen::Index k = 0; k < k_rows; ++k) fit(k) *= odd[static_cast<std::size_t>(k)] ? odd_gain : even_gain;
    }
    for (std::size_t k = 0; k < k_count; ++k) spectra[k][b] = fit(static_cast<Eigen::Index>(k)) * shift(b, -delay);
  }

  const std::size_t length = design.max_length > 0 ? design.max_length : out.channel_filters[0].size();
  const std::size_t fade = std::min<std::size_t>(32, length);
  for (std::size_t k = 0; k < k_count; ++k) {
    const std::vector<float> impulse = real_signal(spectra[k], n);
    out.channel_filters[k].assign(impulse.begin(), impulse.begin() + static_cast<std::ptrdiff_t>(length));
    for (std::size_t i = 0; i < fade; ++i)
      out.channel_filters[k][length - fade + i] *=
          static_cast<float>(0.5 + 0.5 * std::cos(kPi * (static_cast<double>(i) + 0.5) / static_cast<double>(fade)));
  }
}

}  // namespace sy::engine
