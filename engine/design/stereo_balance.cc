#include "engine/design/stereo_balance.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <numbers>

#include "engine/design/frequency_response.h"

namespace sy::engine {

namespace {

constexpr double kPi = std::numbers::pi;
// Third-octave bands (sixth octaves fit the 8 kHz band no better and the top worse).
constexpr double kBandsPerOctave = 3.0;
constexpr int kPointsPerBand = 8;
// The side's shortfall at the ears grows towards the crossover: about 14 dB at 150-240 Hz for
// the default pair (KEMAR), plus the crossover's highpass (6 dB at the cutoff).
constexpr double kMostBoostDb = 24.0;

// A first-order low shelf, bilinear with prewarping: unit gain at Nyquist, `dc` at 0 Hz,
// the transition centred on corner_hz.
Biquad low_shelf(double rate, double corner_hz, double dc) {
  const double k = std::tan(kPi * corner_hz / rate);
  const double s = std::sqrt(dc);  // the geometric middle of the transition sits at the corner
  // H(s) = (s + sqrt(dc) w) / (s + w / sqrt(dc)) through the bilinear map.
  const double zero = k * s, pole = k / s;
  Biquad f;
  const double norm = 1.0 / (1.0 + pole);
  f.b0 = (1.0 + zero) * norm;
  f.b1 = (zero - 1.0) * norm;
  f.b2 = 0.0;
  f.a1 = (pole - 1.0) * norm;
  f.a2 = 0.0;
  return f;
}

// A second-order low shelf (the Audio EQ Cookbook's, shelf slope 1): unit gain at Nyquist,
// `dc` (amplitude) at 0 Hz, half of it (in dB) at corner_hz; twice the first-order shelf's
// steepness, which the side's shortfall needs just above the crossover.
Biquad steep_low_shelf(double rate, double corner_hz, double dc) {
  const double a = std::sqrt(dc);
  const double w = 2.0 * kPi * corner_hz / rate;
  const double cosw = std::cos(w), root_alpha = 2.0 * std::sqrt(a) * std::sin(w) / std::numbers::sqrt2;
  const double a0 = (a + 1) + (a - 1) * cosw + root_alpha;
  Biquad f;
  f.b0 = a * ((a + 1) - (a - 1) * cosw + root_alpha) / a0;
  f.b1 = 2 * a * ((a - 1) - (a + 1) * cosw) / a0;
  f.b2 = a * ((a + 1) - (a - 1) * cosw - root_alpha) / a0;
  f.a1 = -2 * ((a - 1) + (a + 1) * cosw) / a0;
  f.a2 = ((a + 1) + (a - 1) * cosw - root_alpha) / a0;
  return f;
}

double magnitude_db(const Biquad& f, double omega) {
  const std::complex<double> z = std::polar(1.0, -omega);
  return 20.0 * std::log10(std::abs((f.b0 + f.b1 * z + f.b2 * z * z) / (1.0 + f.a1 * z + f.a2 * z * z)));
}

// Peaking filter (the Audio EQ Cookbook's), `gain_db` at centre_hz.
Biquad peak(double rate, double centre_hz, double q, double gain_db) {
  const double a = std::pow(10.0, gain_db / 40.0);
  const double w = 2.0 * kPi * centre_hz / rate;
  const double alpha = std::sin(w) / (2.0 * q);
  const double a0 = 1.0 + alpha / a;
  Biquad f;
  f.b0 = (1.0 + alpha * a) / a0;
  f.b1 = -2.0 * std::cos(w) / a0;
  f.b2 = (1.0 - alpha * a) / a0;
  f.a1 = -2.0 * std::cos(w) / a0;
  f.a2 = (1.0 - alpha / a) / a0;
  return f;
}

// Where the peaking filters start (each may move half an octave): the side signal's
// shortfall against the mid signal has its features in the presence region (the pinna) and
// the top octave.
constexpr std::array<double, 4> kPeakHz = {1500.0, 3500.0, 8000.0, 14000.0};
constexpr double kPeakQ = 1.2;
const double kHalfOctave = 0.5 * std::numbers::ln2;

// The equaliser: a broadband gain, a second- and a first-order low shelf and the peaks.
// p = {gain dB, log corner 1, log dc 1, log corner 2, log dc 2, peak gains dB..., log peak
// frequencies...}.
constexpr std::size_t kFirstPeakGain = 5, kFirstPeakHz = kFirstPeakGain + kPeakHz.size();
using Params = std::array<double, kFirstPeakHz + kPeakHz.size()>;

std::vector<Biquad> equaliser(const Params& p, double rate) {
  std::vector<Biquad> f = {steep_low_shelf(rate, std::exp(p[1]), std::exp(p[2])),
                           low_shelf(rate, std::exp(p[3]), std::exp(p[4]))};
  for (std::size_t i = 0; i < kPeakHz.size(); ++i)
    if (kPeakHz[i] < 0.45 * rate) f.push_back(peak(rate, std::exp(p[kFirstPeakHz + i]), kPeakQ, p[kFirstPeakGain + i]));
  const double gain = std::pow(10.0, p[0] / 20.0);
  f[0].b0 *= gain;
  f[0].b1 *= gain;
  f[0].b2 *= gain;
  return f;
}

double response_db(const std::vector<Biquad>& f, double omega) {
  double db = 0;
  for (const Biquad& b : f) db += magnitude_db(b, omega);
  return db;
}

}  // namespace

void fit_side_equaliser(BinauralFilters& out, double rate, double width, double crossover_hz) {
  out.side_equaliser.clear();
  if (width < 10.0 * kPi / 180.0) return;
  const AmbisonicBasis basis = out.basis;
  const std::size_t k_count = out.channel_filters.size();
  const double f_low = std::max(100.0, crossover_hz), f_high = std::min(16000.0, 0.45 * rate);

  // Third-octave bands, each sampled at a few frequencies.
  std::vector<double> centres;
  // An octave below the crossover too, where the side must not come out louder than the mid
  // (the shelves that restore it above the crossover keep boosting below).
  // The nominal third octaves (1 kHz x 2^(k/3)), the bands a listener's analyser reads: on a
  // grid a fraction of a band off, the pinna's notches between 7 and 10 kHz fell on band
  // edges and the side came out +0.8 dB at 8 kHz where the fit saw +-0.3 dB.
  const double lowest = 1000.0 * std::pow(2.0, std::floor(kBandsPerOctave * std::log2(0.5 * f_low / 1000.0) + 1e-9) /
                                                  kBandsPerOctave);
  for (double hz = lowest; hz <= f_high * 1.0001; hz *= std::pow(2.0, 1.0 / kBandsPerOctave)) centres.push_back(hz);
  const std::size_t points = centres.size() * kPointsPerBand;
  std::vector<double> omega(points);
  std::vector<std::complex<double>> spectra(k_count * points);
  for (std::size_t b = 0; b < centres.size(); ++b)
    for (int j = 0; j < kPointsPerBand; ++j) {
      const std::size_t i = b * kPointsPerBand + static_cast<std::size_t>(j);
      omega[i] = 2.0 * kPi * centres[b] * std::pow(2.0, (j + 0.5) / (kBandsPerOctave * kPointsPerBand) - 0.5 / kBandsPerOctave) / rate;
      for (std::size_t k = 0; k < k_count; ++k) spectra[k * points + i] = response_at(out.channel_filters[k], omega[i]);
    }

  // Power of the mid and the side signal at the ears, over every direction of the basis,
  // with the loudness correction the renderer applies.
  std::vector<double> mid(points, 0.0), side(points, 0.0);
  std::vector<float> centre(k_count), plus(k_count), minus(k_count);
  std::vector<double> sum_gain(k_count), difference_gain(k_count);
  for (const Bearing& d : layout_for(basis, 72, 400)) {
    ambisonic_gains(basis, d.azimuth, d.elevation, centre.data());
    double c = 0;
    for (std::size_t k = 0; k < k_count; ++k) c += double{out.loudness_correction[k]} * double{centre[k]};
    // The side gain for this direction (see BinauralFilters::side_gain): the equaliser fits
    // the side's average as the renderer weighs it.
    double sigma = out.side_gain.empty() ? 1.0 : 0.0;
    for (std::size_t k = 0; k < out.side_gain.size(); ++k) sigma += double{out.side_gain[k]} * double{centre[k]};
    ambisonic_gains(basis, d.azimuth + 0.5 * width, d.elevation, plus.data());
    ambisonic_gains(basis, d.azimuth - 0.5 * width, d.elevation, minus.data());
    for (std::size_t k = 0; k < k_count; ++k) {
      sum_gain[k] = 0.5 * c * (double{plus[k]} + double{minus[k]});
      difference_gain[k] = 0.5 * c * sigma * (double{plus[k]} - double{minus[k]});
    }
    for (std::size_t i = 0; i < points; ++i) {
      std::complex<double> even[2] = {0, 0}, odd[2] = {0, 0};
      for (std::size_t k = 0; k < k_count; ++k) {
        const std::complex<double> h = spectra[k * points + i];
        const bool is_odd = ambisonic_channel_is_odd(basis, k);
        (is_odd ? odd[0] : even[0]) += sum_gain[k] * h;
        (is_odd ? odd[1] : even[1]) += difference_gain[k] * h;
      }
      mid[i] += std::norm(even[0] + odd[0]) + std::norm(even[0] - odd[0]);
      side[i] += std::norm(even[1] + odd[1]) + std::norm(even[1] - odd[1]);
    }
  }
  // The side reaches the encoder through the crossover's highpass (the mid's bass takes the
  // centred path and comes out flat), so near the crossover the side also needs what the
  // highpass takes: a Linkwitz-Riley highpass's power is (x^4 / (1 + x^4))^2, x the
  // prewarped frequency over the cutoff.
  if (crossover_hz > 0) {
    const double cutoff = std::tan(kPi * crossover_hz / rate);
    for (std::size_t i = 0; i < points; ++i) {
      const double x4 = std::pow(std::tan(0.5 * omega[i]) / cutoff, 4);
      side[i] *= (x4 / (1.0 + x4)) * (x4 / (1.0 + x4));
    }
  }
  std::vector<double> target_db(centres.size()), side_band(centres.size());
  for (std::size_t b = 0; b < centres.size(); ++b) {
    double m = 0, s = 0;
    for (int j = 0; j < kPointsPerBand; ++j) {
      m += mid[b * kPointsPerBand + static_cast<std::size_t>(j)];
      s += side[b * kPointsPerBand + static_cast<std::size_t>(j)];
    }
    side_band[b] = std::max(s, 1e-30);
    target_db[b] = std::clamp(10.0 * std::log10(m / side_band[b]), -6.0, kMostBoostDb);
  }

  // Levenberg-Marquardt on the squared dB error over the bands (thirteen parameters, numerical
  // derivatives; hand-written: a few lines, and the fit runs once per design).
  const auto bands = static_cast<Eigen::Index>(centres.size());
  auto residuals = [&](const Params& p) {
    const std::vector<Biquad> f = equaliser(p, rate);
    Eigen::VectorXd r(bands);
    // The error is in the band's power (what a listener and a third-octave analyser hear),
    // not in the average of the equaliser's dB over the band: the side's own response varies
    // within a band (pinna notches), and the power follows where it is strong.
    for (Eigen::Index b = 0; b < bands; ++b) {
      const auto first = static_cast<std::size_t>(b) * kPointsPerBand;
      double power = 0;
      for (std::size_t i = first; i < first + kPointsPerBand; ++i)
        power += std::pow(10.0, response_db(f, omega[i]) / 10.0) * side[i];
      r(b) = 10.0 * std::log10(power / side_band[static_cast<std::size_t>(b)]) - target_db[static_cast<std::size_t>(b)];
      if (centres[static_cast<std::size_t>(b)] < 0.99 * f_low) r(b) = std::max(0.0, r(b));
    }
    return r;
  };
  double top = 0;
  int top_count = 0;
  for (std::size_t b = 0; b < centres.size(); ++b)
    if (centres[b] > 3000.0) {
      top += target_db[b];
      ++top_count;
    }
  Params p = {top_count > 0 ? top / top_count : 0.0, std::log(300.0), std::log(2.0), std::log(1000.0), std::log(1.5)};
  for (std::size_t i = 0; i < kPeakHz.size(); ++i) p[kFirstPeakHz + i] = std::log(kPeakHz[i]);
  constexpr auto kCount = static_cast<int>(std::tuple_size_v<Params>);
  Eigen::VectorXd r = residuals(p);
  double lambda = 1e-3;
  for (int iteration = 0; iteration < 100; ++iteration) {
    Eigen::MatrixXd jacobian(bands, kCount);
    for (int q = 0; q < kCount; ++q) {
      Params moved = p;
      moved[static_cast<std::size_t>(q)] += 1e-4;
      jacobian.col(q) = (residuals(moved) - r) / 1e-4;
    }
    Eigen::MatrixXd normal = jacobian.transpose() * jacobian;
    normal.diagonal() *= 1.0 + lambda;
    const Eigen::VectorXd step = normal.ldlt().solve(-jacobian.transpose() * r);
    Params next = p;
    for (int q = 0; q < kCount; ++q) next[static_cast<std::size_t>(q)] += step(q);
    // Corners within the fitted range, shelves boosting up to 24 dB.
    for (std::size_t q : {1u, 3u}) next[q] = std::clamp(next[q], std::log(f_low / 2), std::log(f_high));
    for (std::size_t q : {2u, 4u}) next[q] = std::clamp(next[q], 0.0, std::log(16.0));
    for (std::size_t i = 0; i < kPeakHz.size(); ++i) {
      next[kFirstPeakGain + i] = std::clamp(next[kFirstPeakGain + i], -12.0, 12.0);
      // At low rates a peak's half-octave range lies above 0.45 x rate: the bounds must not cross
      // (std::clamp with lo > hi is undefined).
      const double lo = std::log(kPeakHz[i]) - kHalfOctave;
      const double hi = std::max(lo, std::min(std::log(kPeakHz[i]) + kHalfOctave, std::log(0.45 * rate)));
      next[kFirstPeakHz + i] = std::clamp(next[kFirstPeakHz + i], lo, hi);
    }
    const Eigen::VectorXd next_r = residuals(next);
    if (next_r.squaredNorm() < r.squaredNorm()) {
      p = next;
      r = next_r;
      lambda = std::max(1e-6, lambda / 3);
    } else {
      lambda *= 10;
    }
    if (step.norm() < 1e-6) break;
  }
  out.side_equaliser = equaliser(p, rate);
}

}  // namespace sy::engine
