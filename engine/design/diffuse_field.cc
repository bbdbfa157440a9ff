#include "engine/design/diffuse_field.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <mutex>
#include <numbers>

#include "engine/convolver.h"

namespace sy::engine {

namespace {

constexpr double kPi = std::numbers::pi;

// In-place complex DFT through FFTW (start-up only; plans under the shared planner lock).
void dft(std::vector<std::complex<float>>& x, bool inverse) {
  auto* data = reinterpret_cast<fftwf_complex*>(x.data());
  fftwf_plan plan;
  {
    const std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    plan = fftwf_plan_dft_1d(static_cast<int>(x.size()), data, data, inverse ? FFTW_BACKWARD : FFTW_FORWARD,
                             FFTW_ESTIMATE);
  }
  fftwf_execute(plan);
  const std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  fftwf_destroy_plan(plan);
  if (inverse)
    for (auto& v : x) v /= static_cast<float>(x.size());
}

// The inverse of a sliding third-octave average is flat at that resolution only where the
// response is smooth: where the set's average has structure within a band (the pinna's
// notches above 6 kHz, the steep fall above 16 kHz) the third octaves the song is heard
// in came out up to 0.45 dB off (8 kHz +0.25, 16 kHz -0.44 dB for a mono input). Each
// third octave's level after equalisation (nominal centres, 1 kHz x 2^(k/3), from 250 Hz
// to `top_hz`) is measured and the gain corrected by a line through the bands' errors
// (in dB over log frequency), three times: one value per band, so it adds no ripple finer
// than a third octave (correcting the sliding average itself does, and the 512-frame
// filters cannot hold it).
void refine_band_levels(const std::vector<double>& power, double bin_hz, double reference, double top_hz,
                        std::vector<double>& gain_db) {
  std::vector<double> centres;
  for (int k = -6; 1000.0 * std::pow(2.0, k / 3.0) <= top_hz * 1.001; ++k) centres.push_back(1000.0 * std::pow(2.0, k / 3.0));
  if (centres.size() < 2) return;
  const std::size_t bins = power.size();
  std::vector<double> error(centres.size());
  for (int pass = 0; pass < 3; ++pass) {
    for (std::size_t i = 0; i < centres.size(); ++i) {
      const auto lo = static_cast<std::size_t>(centres[i] * std::pow(2.0, -1.0 / 6.0) / bin_hz);
      const auto hi = std::min(bins, static_cast<std::size_t>(centres[i] * std::pow(2.0, 1.0 / 6.0) / bin_hz));
      double sum = 0;
      for (std::size_t b = lo; b < hi; ++b) sum += power[b] * std::pow(10.0, gain_db[b] / 10.0);
      error[i] = hi > lo ? 10.0 * std::log10(sum / static_cast<double>(hi - lo) / reference) : 0.0;
    }
    // Below the lowest band and above the highest the correction fades out over a band.
    const double first = std::log2(centres.front()), last = std::log2(centres.back());
    for (std::size_t b = 1; b < bins; ++b) {
      const double x = std::log2(static_cast<double>(b) * bin_hz);
      double e;
      if (x <= first) {
        e = error.front() * std::max(0.0, 1.0 - 3.0 * (first - x));
      } else if (x >= last) {
        e = error.back() * std::max(0.0, 1.0 - 3.0 * (x - last));
      } else {
        const double at = (x - first) * 3.0;
        const auto i = std::min(static_cast<std::size_t>(at), centres.size() - 2);
        const double t = at - static_cast<double>(i);
        e = (1.0 - t) * error[i] + t * error[i + 1];
      }
      gain_db[b] = std::clamp(gain_db[b] - e, -24.0, 12.0);
    }
  }
}

}  // namespace

void equalize_diffuse_field(BinauralFilters& out, double rate, std::size_t max_length, double pair_width) {
  const AmbisonicBasis basis = out.basis;
  const std::size_t k_count = out.channel_filters.size();
  constexpr std::size_t kN = 4096;
  constexpr std::size_t kBins = kN / 2 + 1;
  std::vector<std::vector<std::complex<float>>> spectra(k_count, std::vector<std::complex<float>>(kN));
  for (std::size_t k = 0; k < k_count; ++k) {
    std::copy(out.channel_filters[k].begin(), out.channel_filters[k].end(), spectra[k].begin());
    dft(spectra[k], false);
  }
  const std::vector<Bearing> grid = layout_for(basis, 72, 400);
  std::vector<double> power(kBins, 0.0);
  std::vector<float> g(k_count), g2(k_count);
  for (const Bearing& d : grid) {
    // The loudness correction the renderer applies for this centre (none before it is fitted).
    double c = 1.0;
    if (!out.loudness_correction.empty()) {
      ambisonic_gains(basis, d.azimuth, d.elevation, g.data());
      c = 0.0;
      for (std::size_t k = 0; k < k_count; ++k) c += double{out.loudness_correction[k]} * double{g[k]};
    }
    // The mono response of the pair: half of each source, which the encoding adds up.
    ambisonic_gains(basis, d.azimuth + 0.5 * pair_width, d.elevation, g.data());
    ambisonic_gains(basis, d.azimuth - 0.5 * pair_width, d.elevation, g2.data());
    for (std::size_t k = 0; k < k_count; ++k) g[k] = static_cast<float>(0.5 * c * (double{g[k]} + double{g2[k]}));
    for (std::size_t b = 0; b < kBins; ++b) {
      std::complex<double> even = 0, odd = 0;
      for (std::size_t k = 0; k < k_count; ++k)
        (ambisonic_channel_is_odd(basis, k) ? odd : even) += double{g[k]} * std::complex<double>(spectra[k][b]);
      power[b] += std::norm(even + odd) + std::norm(even - odd);
    }
  }
  // Third-octave smoothing. Below 50 Hz the correction is held constant (the bass has its
  // own path). At the top it follows the set as far as the set has energy: up to 20 kHz (or
  // 0.45 x the rate) while the average stays within kEnergyFloorDb of the reference, then
  // it returns to 0 dB within half an octave, so nothing is boosted where the measurement
  // holds nothing (KEMAR's responses fall 56 dB below their mid level by 22.6 kHz).
  constexpr double kEnergyFloorDb = 20.0;
  const double bin_hz = rate / kN;
  auto smoothed = [&](double hz) {
    const double lo = hz * std::pow(2.0, -1.0 / 6.0), hi = hz * std::pow(2.0, 1.0 / 6.0);
    double sum = 0;
    int count = 0;
    for (std::size_t b = static_cast<std::size_t>(lo / bin_hz); b <= static_cast<std::size_t>(hi / bin_hz) && b < kBins; ++b) {
      sum += power[b];
      ++count;
    }
    return count > 0 ? sum / count : 1e-20;
  };
  double reference = 0;
  for (double hz = 200; hz <= 800; hz *= std::pow(2.0, 1.0 / 3.0)) reference += std::log(smoothed(hz));
  reference = std::exp(reference / 7.0);
  const double f_low = 50.0;
  double f_high = 1000.0;
  while (f_high * 1.01 < std::min(20000.0, 0.45 * rate) &&
         10.0 * std::log10(smoothed(f_high * 1.01) / reference) > -kEnergyFloorDb)
    f_high *= 1.01;
  auto gain_db_at = [&](double hz) {
    return std::clamp(10.0 * std::log10(reference / smoothed(std::clamp(hz, f_low, f_high))), -24.0, 12.0);
  };
  const double top_gain_db = gain_db_at(f_high);
  std::vector<double> gain_db(kBins);
  for (std::size_t b = 0; b < kBins; ++b) {
    const double hz = static_cast<double>(b) * bin_hz;
    gain_db[b] = hz <= f_high ? gain_db_at(hz) : top_gain_db * std::max(0.0, 1.0 - 2.0 * std::log2(hz / f_high));
  }
  refine_band_levels(power, bin_hz, reference, std::min(16000.0, f_high), gain_db);
  std::vector<float> log_gain(kBins);
  for (std::size_t b = 0; b < kBins; ++b) log_gain[b] = static_cast<float>(gain_db[b] / 20.0 * std::log(10.0));
  // Minimum phase from the real cepstrum: fold the anti-causal half onto the causal one.
  // (Hand-written: a dozen lines around FFTW; no Debian package offers it as a function.)
  std::vector<std::complex<float>> cep(kN);
  for (std::size_t b = 0; b < kN; ++b) cep[b] = log_gain[b < kBins ? b : kN - b];
  dft(cep, true);
  for (std::size_t n = 1; n < kN / 2; ++n) {
    cep[n] *= 2.0f;
    cep[kN - n] = 0.0f;
  }
  dft(cep, false);
  for (auto& v : cep) v = std::exp(v);
  // Apply to every channel's spectrum and come back to the time domain.
  for (std::size_t k = 0; k < k_count; ++k) {
    for (std::size_t b = 0; b < kN; ++b) spectra[k][b] *= cep[b];
    dft(spectra[k], true);
    const std::size_t length = max_length > 0 ? max_length : out.channel_filters[k].size();
    out.channel_filters[k].assign(length, 0.0f);
    const std::size_t fade = std::min<std::size_t>(32, length);
    for (std::size_t n = 0; n < length; ++n) {
      float w = 1.0f;
      if (n >= length - fade)
        w = static_cast<float>(0.5 + 0.5 * std::cos(kPi * (static_cast<double>(n - (length - fade)) + 0.5) / static_cast<double>(fade)));
      out.channel_filters[k][n] = spectra[k][n].real() * w;
    }
  }
}

}  // namespace sy::engine
