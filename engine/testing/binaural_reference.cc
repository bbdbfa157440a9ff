#include "engine/testing/binaural_reference.h"

#include <fftw3.h>

#include <cmath>
#include <complex>
#include <mutex>
#include <numbers>
#include <stdexcept>

#include "engine/convolver.h"

namespace sy::testing {

namespace {

constexpr double kLowestBandHz = 250.0;
constexpr double kHighestBandHz = 16000.0;

double band_edge(double centre, double sign) { return centre * std::pow(2.0, sign / 6.0); }

double rms(const std::vector<double>& v) {
  double acc = 0;
  for (double x : v) acc += x * x;
  return v.empty() ? 0.0 : std::sqrt(acc / static_cast<double>(v.size()));
}

// Mean over both ears and all bands.
double mean_level(const EarCues& c) {
  double acc = 0;
  for (std::size_t b = 0; b < c.left_db.size(); ++b) acc += c.left_db[b] + c.right_db[b];
  return acc / static_cast<double>(2 * c.left_db.size());
}

// |H(f)|^2 of an impulse response on n / 2 + 1 bins.
std::vector<double> power_response(const std::vector<float>& ir, std::size_t n) {
  std::vector<float> in(n, 0.0f);
  std::copy(ir.begin(), ir.begin() + static_cast<std::ptrdiff_t>(std::min(ir.size(), n)), in.begin());
  std::vector<std::complex<float>> out(n / 2 + 1);
  fftwf_plan plan;
  {
    const std::lock_guard<std::mutex> lock(engine::fftw_planner_mutex());
    plan = fftwf_plan_dft_r2c_1d(static_cast<int>(n), in.data(), reinterpret_cast<fftwf_complex*>(out.data()),
                                 FFTW_ESTIMATE);
  }
  fftwf_execute(plan);
  {
    const std::lock_guard<std::mutex> lock(engine::fftw_planner_mutex());
    fftwf_destroy_plan(plan);
  }
  std::vector<double> power(out.size());
  for (std::size_t k = 0; k < out.size(); ++k) power[k] = double{std::norm(out[k])};
  return power;
}

}  // namespace

std::vector<double> cue_band_centres() {
  std::vector<double> centres;
  for (double hz = kLowestBandHz; hz <= kHighestBandHz * 1.0001; hz *= std::pow(2.0, 1.0 / 3.0))
    centres.push_back(hz);
  return centres;
}

EarCues measure_cues(const Stereo& ears, const std::vector<float>& input, std::size_t begin, std::size_t length,
                     double sample_rate) {
  const auto in = band_levels_db(input, begin, length, sample_rate, kLowestBandHz, kHighestBandHz);
  EarCues c;
  c.left_db = band_levels_db(ears.left, begin, length, sample_rate, kLowestBandHz, kHighestBandHz);
  c.right_db = band_levels_db(ears.right, begin, length, sample_rate, kLowestBandHz, kHighestBandHz);
  for (std::size_t b = 0; b < in.size(); ++b) {
    c.left_db[b] -= in[b];
    c.right_db[b] -= in[b];
  }
  // One cross-correlation over the whole stretch.
  constexpr double kMaxLagMs = 1.0;
  const auto max_lag = static_cast<std::size_t>(std::lround(kMaxLagMs * 1e-3 * sample_rate));
  Stereo stretch;
  stretch.left.assign(ears.left.begin() + static_cast<std::ptrdiff_t>(begin),
                      ears.left.begin() + static_cast<std::ptrdiff_t>(begin + length));
  stretch.right.assign(ears.right.begin() + static_cast<std::ptrdiff_t>(begin),
                       ears.right.begin() + static_cast<std::ptrdiff_t>(begin + length));
  const auto itd = itd_series_ms(stretch, sample_rate, length - 2 * max_lag, length, 1500.0, kMaxLagMs);
  if (itd.empty()) throw std::invalid_argument("stretch too short for the time difference");
  c.itd_ms = itd.front();
  return c;
}

HrtfReference::HrtfReference(const std::string& sofa_path, double sample_rate, engine::AmbisonicBasis basis)
    : hrtf_(sofa_path, sample_rate) {
  // Power per band, weighted like pink noise (1/f within the band) as the measurement of a
  // rendered stretch weighs it, averaged over both ears and every direction of the basis.
  constexpr std::size_t kN = 8192;
  const std::vector<double> centres = cue_band_centres();
  std::vector<double> band_power(centres.size(), 0.0);
  std::vector<float> left(hrtf_.length()), right(hrtf_.length());
  const auto directions = engine::layout_for(basis, 72, 400);
  const double bin_hz = sample_rate / static_cast<double>(kN);
  for (const engine::Bearing& d : directions) {
    hrtf_.response(d.azimuth * 180.0 / std::numbers::pi, d.elevation * 180.0 / std::numbers::pi, left.data(),
                   right.data());
    const auto pl = power_response(left, kN), pr = power_response(right, kN);
    for (std::size_t b = 0; b < centres.size(); ++b) {
      double acc = 0, weight = 0;
      for (std::size_t k = 1; k < pl.size(); ++k) {
        const double f = static_cast<double>(k) * bin_hz;
        if (f < band_edge(centres[b], -1) || f >= band_edge(centres[b], 1)) continue;
        acc += (pl[k] + pr[k]) / (2.0 * f);
        weight += 1.0 / f;
      }
      band_power[b] += acc / weight / static_cast<double>(directions.size());
    }
  }
  for (double p : band_power) diffuse_field_db_.push_back(10.0 * std::log10(p));
}

Stereo HrtfReference::render(const std::vector<float>& input, std::size_t begin, std::size_t length,
                             double azimuth_deg, double elevation_deg) {
  const std::size_t taps = hrtf_.length();
  std::vector<float> hl(taps), hr(taps);
  hrtf_.response(azimuth_deg, elevation_deg, hl.data(), hr.data());
  // Direct convolution: the yardstick should not share the renderer's FFT convolver.
  Stereo out;
  out.left.assign(input.size(), 0.0f);
  out.right.assign(input.size(), 0.0f);
  for (std::size_t n = begin; n < begin + length && n < input.size(); ++n) {
    double l = 0, r = 0;
    for (std::size_t k = 0; k < taps && k <= n; ++k) {
      const double x = double{input[n - k]};
      l += double{hl[k]} * x;
      r += double{hr[k]} * x;
    }
    out.left[n] = static_cast<float>(l);
    out.right[n] = static_cast<float>(r);
  }
  return out;
}

EarCues HrtfReference::cues(const std::vector<float>& input, std::size_t begin, std::size_t length,
                            double azimuth_deg, double elevation_deg) {
  EarCues c = measure_cues(render(input, begin, length, azimuth_deg, elevation_deg), input, begin, length,
                           hrtf_.sample_rate());
  for (std::size_t b = 0; b < c.left_db.size(); ++b) {
    c.left_db[b] -= diffuse_field_db_[b];
    c.right_db[b] -= diffuse_field_db_[b];
  }
  c.azimuth_deg = azimuth_deg;
  c.elevation_deg = elevation_deg;
  return c;
}

CueComparison compare_cues(const std::vector<EarCues>& rendered, const std::vector<EarCues>& reference) {
  if (rendered.size() != reference.size()) throw std::invalid_argument("different direction sets");
  const std::vector<double> centres = cue_band_centres();
  CueComparison out;
  std::vector<double> all_ild, all_spectral, all_itd;
  for (std::size_t d = 0; d < rendered.size(); ++d) {
    const EarCues& x = rendered[d];
    const EarCues& y = reference[d];
    std::vector<double> ild, spectral;
    const double offset = mean_level(x) - mean_level(y);
    for (std::size_t b = 0; b < centres.size(); ++b) {
      if (centres[b] >= 1999.0) ild.push_back((x.left_db[b] - x.right_db[b]) - (y.left_db[b] - y.right_db[b]));
      spectral.push_back(x.left_db[b] - y.left_db[b] - offset);
      spectral.push_back(x.right_db[b] - y.right_db[b] - offset);
    }
    out.ild_error_db.push_back(rms(ild));
    out.spectral_error_db.push_back(rms(spectral));
    out.itd_error_ms.push_back(x.itd_ms - y.itd_ms);
    all_ild.insert(all_ild.end(), ild.begin(), ild.end());
    all_spectral.insert(all_spectral.end(), spectral.begin(), spectral.end());
    all_itd.push_back(x.itd_ms - y.itd_ms);
  }
  out.ild_rms_db = rms(all_ild);
  out.spectral_rms_db = rms(all_spectral);
  out.itd_rms_ms = rms(all_itd);
  return out;
}

double front_back_error_db(const EarCues& rendered_front, const EarCues& rendered_back,
                           const EarCues& reference_front, const EarCues& reference_back) {
  const std::vector<double> centres = cue_band_centres();
  const double x = mean_level(rendered_front) - mean_level(rendered_back);
  const double y = mean_level(reference_front) - mean_level(reference_back);
  std::vector<double> error;
  for (std::size_t b = 0; b < centres.size(); ++b) {
    if (centres[b] < 3999.0 || centres[b] > 12700.0) continue;
    error.push_back((rendered_front.left_db[b] - rendered_back.left_db[b] - x) -
                    (reference_front.left_db[b] - reference_back.left_db[b] - y));
    error.push_back((rendered_front.right_db[b] - rendered_back.right_db[b] - x) -
                    (reference_front.right_db[b] - reference_back.right_db[b] - y));
  }
  return rms(error);
}

}  // namespace sy::testing
