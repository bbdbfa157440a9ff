#include "engine/ambisonics.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <mutex>
#include <numbers>
#include <stdexcept>

#include "engine/hrtf.h"

#include <fftw3.h>

namespace sy::engine {

namespace {

constexpr double kPi = std::numbers::pi;

struct Direction {
  double azimuth;    // radians
  double elevation;  // radians
};

std::vector<Direction> horizontal_layout(std::size_t speakers) {
  std::vector<Direction> dirs;
  for (std::size_t s = 0; s < speakers; ++s)
    dirs.push_back({2.0 * kPi * static_cast<double>(s) / static_cast<double>(speakers), 0.0});
  return dirs;
}

// A golden-angle spiral (near-uniform on the sphere) plus its mirror image, so the layout
// is left/right symmetric like the head.
std::vector<Direction> sphere_layout(std::size_t speakers) {
  const std::size_t half = std::max<std::size_t>(speakers / 2, 16);
  const double golden = kPi * (3.0 - std::sqrt(5.0));
  std::vector<Direction> dirs;
  for (std::size_t i = 0; i < half; ++i) {
    const double z = 1.0 - (2.0 * static_cast<double>(i) + 1.0) / static_cast<double>(half);
    const double az = std::remainder(golden * static_cast<double>(i), 2.0 * kPi);
    const double el = std::asin(z);
    dirs.push_back({az, el});
    dirs.push_back({-az, el});
  }
  return dirs;
}

// Solves G X = B in place for a small symmetric positive definite G (Gauss-Jordan with
// partial pivoting); the matrices here are at most 16 x 16.
void solve(std::vector<double>& g, std::vector<double>& b, std::size_t n, std::size_t cols) {
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::abs(g[r * n + c]) > std::abs(g[pivot * n + c])) pivot = r;
    if (std::abs(g[pivot * n + c]) < 1e-12) throw std::runtime_error("singular ambisonic decoder");
    if (pivot != c) {
      for (std::size_t k = 0; k < n; ++k) std::swap(g[c * n + k], g[pivot * n + k]);
      for (std::size_t k = 0; k < cols; ++k) std::swap(b[c * cols + k], b[pivot * cols + k]);
    }
    const double inv = 1.0 / g[c * n + c];
    for (std::size_t k = 0; k < n; ++k) g[c * n + k] *= inv;
    for (std::size_t k = 0; k < cols; ++k) b[c * cols + k] *= inv;
    for (std::size_t r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = g[r * n + c];
      if (f == 0.0) continue;
      for (std::size_t k = 0; k < n; ++k) g[r * n + k] -= f * g[c * n + k];
      for (std::size_t k = 0; k < cols; ++k) b[r * cols + k] -= f * b[c * cols + k];
    }
  }
}

std::complex<double> dft_at(const std::vector<float>& h, double omega) {
  std::complex<double> sum = 0;
  for (std::size_t n = 0; n < h.size(); ++n)
    sum += double{h[n]} * std::polar(1.0, -omega * static_cast<double>(n));
  return sum;
}

// Magnitude of the ITU-R BS.1770 pre-filter (the high shelf of K-weighting).
double k_weight(double hz) {
  const std::complex<double> z = std::polar(1.0, -2.0 * kPi * hz / 48000.0);
  const std::complex<double> b = 1.53512485958697 - 2.69169618940638 * z + 1.19839281085285 * z * z;
  const std::complex<double> a = 1.0 - 1.69065929318241 * z + 0.73248077421585 * z * z;
  return std::abs(b / a);
}

void fit_loudness_correction(BinauralFilters& out, double rate, double low_hz, double width);
void equalize_diffuse_field(BinauralFilters& out, double rate, std::size_t max_length);
void match_bass_path(BinauralFilters& out, double rate, double crossover_hz, double width);

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

void ambisonic_gains(AmbisonicBasis basis, double azimuth, double elevation, float* g) noexcept {
  if (basis == AmbisonicBasis::kHorizontal) {
    // cos(m a), sin(m a) by the angle-addition recurrence: one sincos per call.
    const double s2 = std::numbers::sqrt2;
    const double c1 = std::cos(azimuth), s1 = std::sin(azimuth);
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
  // form (x front, y left, z up).
  const double ce = std::cos(elevation);
  const double x = ce * std::cos(azimuth), y = ce * std::sin(azimuth), z = std::sin(elevation);
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

BinauralFilters design_binaural_filters(HrtfSet& hrtf, const BinauralDecoderDesign& design) {
  const AmbisonicBasis basis = design.basis;
  const std::size_t k_count = ambisonic_channels(basis);
  const std::vector<Direction> dirs = basis == AmbisonicBasis::kHorizontal
                                          ? horizontal_layout(design.horizontal_speakers)
                                          : sphere_layout(design.sphere_speakers);
  const std::size_t s_count = dirs.size();
  if (s_count < k_count) throw std::invalid_argument("too few virtual loudspeakers");

  // Mode-matching decoder D = Y^T (Y Y^T)^-1, computed as X = (Y Y^T)^-1 Y, D = X^T.
  std::vector<double> y(k_count * s_count);
  std::vector<float> gains(k_count);
  for (std::size_t s = 0; s < s_count; ++s) {
    ambisonic_gains(basis, dirs[s].azimuth, dirs[s].elevation, gains.data());
    for (std::size_t k = 0; k < k_count; ++k) y[k * s_count + s] = double{gains[k]};
  }
  std::vector<double> gram(k_count * k_count, 0.0);
  for (std::size_t a = 0; a < k_count; ++a)
    for (std::size_t b = 0; b < k_count; ++b)
      for (std::size_t s = 0; s < s_count; ++s) gram[a * k_count + b] += y[a * s_count + s] * y[b * s_count + s];
  std::vector<double> x = y;
  solve(gram, x, k_count, s_count);  // x[k][s] = decoder weight of channel k for speaker s

  // Per-order weights: max-rE trades some sharpness for less spread of energy.
  std::vector<double> order_weight(kAmbisonicOrder + 1, 1.0);
  if (design.max_re) {
    const double dim_angle = basis == AmbisonicBasis::kHorizontal ? kPi / (2.0 * kAmbisonicOrder + 2.0)
                                                                  : 2.4068 / (kAmbisonicOrder + 1.51);
    for (int l = 0; l <= kAmbisonicOrder; ++l) {
      if (basis == AmbisonicBasis::kHorizontal) {
        order_weight[static_cast<std::size_t>(l)] = std::cos(l * dim_angle);
      } else {
        order_weight[static_cast<std::size_t>(l)] = std::legendre(static_cast<unsigned>(l), std::cos(dim_angle));
      }
    }
  }

  // Loudspeaker responses, trimmed to start just before the earliest arrival.
  const std::size_t n = hrtf.length();
  std::vector<std::vector<float>> left(s_count, std::vector<float>(n)), right(s_count, std::vector<float>(n));
  float peak = 0;
  for (std::size_t s = 0; s < s_count; ++s) {
    hrtf.response(dirs[s].azimuth * 180.0 / kPi, dirs[s].elevation * 180.0 / kPi, left[s].data(),
                  right[s].data());
    for (std::size_t i = 0; i < n; ++i) peak = std::max({peak, std::abs(left[s][i]), std::abs(right[s][i])});
  }
  std::size_t onset = n;
  for (std::size_t s = 0; s < s_count; ++s)
    for (std::size_t i = 0; i < n; ++i)
      if (std::abs(left[s][i]) > 0.01f * peak || std::abs(right[s][i]) > 0.01f * peak) {
        onset = std::min(onset, i);
        break;
      }
  constexpr std::size_t kPreRoll = 16;  // keeps the resampler's pre-ringing
  const std::size_t start = onset > kPreRoll ? onset - kPreRoll : 0;

  BinauralFilters out;
  out.basis = basis;
  out.channel_filters.assign(k_count, std::vector<float>(n - start, 0.0f));
  for (std::size_t k = 0; k < k_count; ++k) {
    const double sign = ambisonic_channel_is_odd(basis, k) ? -1.0 : 1.0;
    const double w = order_weight[static_cast<std::size_t>(ambisonic_channel_order(basis, k))];
    std::vector<double> acc(n - start, 0.0);
    for (std::size_t s = 0; s < s_count; ++s) {
      const double d = 0.5 * w * x[k * s_count + s];
      for (std::size_t i = start; i < n; ++i)
        acc[i - start] += d * (double{left[s][i]} + sign * double{right[s][i]});
    }
    for (std::size_t i = 0; i < acc.size(); ++i) out.channel_filters[k][i] = static_cast<float>(acc[i]);
  }

  // Cut the tail once less than -70 dB of the energy is left.
  double total = 0;
  std::vector<double> energy_at(n - start, 0.0);
  for (const auto& f : out.channel_filters)
    for (std::size_t i = 0; i < f.size(); ++i) energy_at[i] += double{f[i]} * double{f[i]};
  for (double e : energy_at) total += e;
  std::size_t end = energy_at.size();
  double tail = 0;
  while (end > 1 && tail + energy_at[end - 1] < 1e-7 * total) tail += energy_at[--end];
  // What is left past max_length is the end of the measurement's decay: fade it out so one
  // FFT partition holds the whole filter.
  if (design.max_length > 0 && end > design.max_length) {
    end = design.max_length;
    const std::size_t fade = std::min<std::size_t>(32, end);
    for (auto& f : out.channel_filters)
      for (std::size_t i = 0; i < fade; ++i)
        f[end - fade + i] *= static_cast<float>(0.5 + 0.5 * std::cos(kPi * (static_cast<double>(i) + 0.5) / static_cast<double>(fade)));
  }
  for (auto& f : out.channel_filters) f.resize(end);
  if (design.diffuse_field_eq) equalize_diffuse_field(out, hrtf.sample_rate(), design.max_length);

  // Scale to unit gain where the bass path hands over, and measure the delay there.
  const double rate = hrtf.sample_rate();
  const std::vector<float>& omni = out.channel_filters[0];
  constexpr int kPoints = 9;
  double magnitude = 0;
  double previous_phase = 0, unwrapped = 0;
  double sum_f = 0, sum_p = 0, sum_ff = 0, sum_fp = 0;
  for (int j = 0; j < kPoints; ++j) {
    const double f = design.level_match_low_hz +
                     (design.level_match_high_hz - design.level_match_low_hz) * j / (kPoints - 1);
    const std::complex<double> h = dft_at(omni, 2.0 * kPi * f / rate);
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
  out.low_frequency_delay = static_cast<std::size_t>(std::lround(std::clamp(delay, 0.0, static_cast<double>(end))));
  out.arrival_delay = out.low_frequency_delay;
  if (magnitude <= 0) throw std::runtime_error("HRTF set has no low-frequency response");
  const auto scale = static_cast<float>(1.0 / magnitude);
  for (auto& f : out.channel_filters)
    for (float& v : f) v *= scale;

  out.loudness_correction.assign(k_count, 0.0f);
  out.loudness_correction[0] = 1.0f;
  if (design.equal_loudness) fit_loudness_correction(out, rate, design.level_match_low_hz, design.pair_width_degrees * kPi / 180.0);
  if (design.crossover_hz > 0) match_bass_path(out, rate, design.crossover_hz, design.pair_width_degrees * kPi / 180.0);
  return out;
}

namespace {

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

// KEMAR is measured at the eardrum of a dummy head, with the ear canal's resonance and the
// loudspeaker's response in every filter; played on headphones the listener's own ear adds
// the resonance again (about +17 dB at 2.5 kHz on the average over a circle). A
// minimum-phase filter that flattens the power response averaged over every direction
// the decoder can produce (a circle or the sphere) removes what all directions share and
// keeps what differs between them: the spatial cues.
void equalize_diffuse_field(BinauralFilters& out, double rate, std::size_t max_length) {
  const AmbisonicBasis basis = out.basis;
  const std::size_t k_count = out.channel_filters.size();
  constexpr std::size_t kN = 4096;
  constexpr std::size_t kBins = kN / 2 + 1;
  std::vector<std::vector<std::complex<float>>> spectra(k_count, std::vector<std::complex<float>>(kN));
  for (std::size_t k = 0; k < k_count; ++k) {
    std::copy(out.channel_filters[k].begin(), out.channel_filters[k].end(), spectra[k].begin());
    dft(spectra[k], false);
  }
  const std::vector<Direction> grid = basis == AmbisonicBasis::kHorizontal ? horizontal_layout(72) : sphere_layout(400);
  std::vector<double> power(kBins, 0.0);
  std::vector<float> g(k_count);
  for (const Direction& d : grid) {
    ambisonic_gains(basis, d.azimuth, d.elevation, g.data());
    for (std::size_t b = 0; b < kBins; ++b) {
      std::complex<double> even = 0, odd = 0;
      for (std::size_t k = 0; k < k_count; ++k)
        (ambisonic_channel_is_odd(basis, k) ? odd : even) += double{g[k]} * std::complex<double>(spectra[k][b]);
      power[b] += std::norm(even + odd) + std::norm(even - odd);
    }
  }
  // Third-octave smoothing; outside 150 Hz .. 16 kHz the correction is held constant (the
  // bass has its own path, and the top octave of the measurement is unreliable).
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
  const double f_low = 50.0, f_high = std::min(16000.0, 0.45 * rate);
  double reference = 0;
  for (double hz = 200; hz <= 800; hz *= std::pow(2.0, 1.0 / 3.0)) reference += std::log(smoothed(hz));
  reference = std::exp(reference / 7.0);
  std::vector<float> log_gain(kBins);
  for (std::size_t b = 0; b < kBins; ++b) {
    const double hz = std::clamp(static_cast<double>(b) * bin_hz, f_low, f_high);
    const double gain_db = std::clamp(10.0 * std::log10(reference / smoothed(hz)), -24.0, 12.0);
    log_gain[b] = static_cast<float>(gain_db / 20.0 * std::log(10.0));
  }
  // Minimum phase from the real cepstrum: fold the anti-causal half onto the causal one.
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
      spectra[k * kFreqs + static_cast<std::size_t>(j)] = dft_at(out.channel_filters[k], omega[static_cast<std::size_t>(j)]);
  }
  // Average left-ear response to a mono input over the circle, as the renderer builds it.
  constexpr int kDirections = 72;
  std::vector<std::complex<double>> h(kFreqs);
  std::vector<float> centre(k_count), left(k_count), right(k_count);
  for (int d = 0; d < kDirections; ++d) {
    const double az = 2.0 * kPi * d / kDirections;
    ambisonic_gains(basis, az, 0.0, centre.data());
    double c = 0;
    for (std::size_t k = 0; k < k_count; ++k) c += double{out.loudness_correction[k]} * double{centre[k]};
    ambisonic_gains(basis, az + 0.5 * width, 0.0, left.data());
    ambisonic_gains(basis, az - 0.5 * width, 0.0, right.data());
    for (std::size_t j = 0; j < kFreqs; ++j)
      for (std::size_t k = 0; k < k_count; ++k)
        h[j] += 0.5 * c * (double{left[k]} + double{right[k]}) * spectra[k * kFreqs + j] / static_cast<double>(kDirections);
  }
  // Unit level just above the crossover, where the rotating path alone carries the sound.
  double level = 0;
  for (std::size_t j = kFreqs / 3; j < kFreqs; ++j) level += std::abs(h[j]) / static_cast<double>(kFreqs - kFreqs / 3);
  if (level <= 0) return;
  const double scale = 1.0 / level;
  for (auto& f : out.channel_filters)
    for (float& v : f) v = static_cast<float>(double{v} * scale);
  for (auto& v : h) v *= scale;
  // The delay that best lines the unit-gain bass up with it where both bands sound.
  double best_error = std::numeric_limits<double>::infinity();
  for (std::size_t delay = 0; delay < out.channel_filters[0].size() / 2; ++delay) {
    double error = 0;
    for (std::size_t j = 0; j < 2 * kFreqs / 3; ++j)
      error += std::norm(h[j] - std::polar(1.0, -omega[j] * static_cast<double>(delay)));
    if (error < best_error) {
      best_error = error;
      out.low_frequency_delay = delay;
    }
  }
}

void fit_loudness_correction(BinauralFilters& out, double rate, double low_hz, double width) {
  const AmbisonicBasis basis = out.basis;
  const std::size_t k_count = out.channel_filters.size();
  // Pink noise has equal power per octave: equal weights on a log-spaced grid.
  constexpr int kFreqs = 48;
  const double f_low = std::max(100.0, low_hz), f_high = std::min(16000.0, 0.45 * rate);
  std::vector<std::complex<double>> spectra(k_count * kFreqs);
  std::vector<double> weight(kFreqs);
  for (int j = 0; j < kFreqs; ++j) {
    const double f = f_low * std::pow(f_high / f_low, j / (kFreqs - 1.0));
    weight[static_cast<std::size_t>(j)] = k_weight(f) * k_weight(f);
    for (std::size_t k = 0; k < k_count; ++k)
      spectra[k * kFreqs + static_cast<std::size_t>(j)] = dft_at(out.channel_filters[k], 2.0 * kPi * f / rate);
  }
  const std::vector<Direction> grid =
      basis == AmbisonicBasis::kHorizontal ? horizontal_layout(72) : sphere_layout(400);
  std::vector<float> g(k_count);
  std::vector<double> correction(grid.size());
  double mean_log = 0;
  std::vector<float> g2(k_count);
  for (std::size_t d = 0; d < grid.size(); ++d) {
    ambisonic_gains(basis, grid[d].azimuth + 0.5 * width, grid[d].elevation, g.data());
    ambisonic_gains(basis, grid[d].azimuth - 0.5 * width, grid[d].elevation, g2.data());
    double energy = 0;
    for (std::size_t j = 0; j < kFreqs; ++j) {
      std::complex<double> even[2] = {0, 0}, odd[2] = {0, 0};
      for (std::size_t k = 0; k < k_count; ++k) {
        const bool is_odd = ambisonic_channel_is_odd(basis, k);
        (is_odd ? odd[0] : even[0]) += double{g[k]} * spectra[k * kFreqs + j];
        (is_odd ? odd[1] : even[1]) += double{g2[k]} * spectra[k * kFreqs + j];
      }
      const std::complex<double> l[2] = {even[0] + odd[0], even[1] + odd[1]};
      const std::complex<double> r[2] = {even[0] - odd[0], even[1] - odd[1]};
      const double coherent = std::norm(l[0] + l[1]) + std::norm(r[0] + r[1]);
      const double incoherent = std::norm(l[0]) + std::norm(l[1]) + std::norm(r[0]) + std::norm(r[1]);
      energy += weight[j] * (coherent + incoherent);
    }
    correction[d] = -0.5 * std::log(energy);
    mean_log += correction[d] / static_cast<double>(grid.size());
  }
  // Least-squares fit of the gain (relative to the mean level) in the basis.
  std::vector<double> y(k_count * grid.size());
  for (std::size_t d = 0; d < grid.size(); ++d) {
    ambisonic_gains(basis, grid[d].azimuth, grid[d].elevation, g.data());
    for (std::size_t k = 0; k < k_count; ++k) y[k * grid.size() + d] = double{g[k]};
  }
  std::vector<double> gram(k_count * k_count, 0.0), rhs(k_count, 0.0);
  for (std::size_t a = 0; a < k_count; ++a) {
    for (std::size_t d = 0; d < grid.size(); ++d) rhs[a] += y[a * grid.size() + d] * std::exp(correction[d] - mean_log);
    for (std::size_t b = 0; b < k_count; ++b)
      for (std::size_t d = 0; d < grid.size(); ++d) gram[a * k_count + b] += y[a * grid.size() + d] * y[b * grid.size() + d];
  }
  solve(gram, rhs, k_count, 1);
  for (std::size_t k = 0; k < k_count; ++k) out.loudness_correction[k] = static_cast<float>(rhs[k]);
}

}  // namespace

BinauralDecoder::BinauralDecoder(const BinauralFilters& filters, std::size_t block)
    : convolver_(block, filters.channel_filters.size(), 2), sums_(2, block) {
  for (std::size_t k = 0; k < filters.channel_filters.size(); ++k)
    convolver_.set_filter(ambisonic_channel_is_odd(filters.basis, k) ? 1 : 0, k, filters.channel_filters[k]);
}

void BinauralDecoder::reset() noexcept { convolver_.reset(); }

void BinauralDecoder::process(ConstAudioView sh, AudioView ears) noexcept {
  convolver_.process(sh, sums_.view());
  const std::size_t n = convolver_.block();
  const float* even = sums_.channel(0);
  const float* odd = sums_.channel(1);
  float* left = ears.channel(0);
  float* right = ears.channel(1);
  for (std::size_t i = 0; i < n; ++i) {
    left[i] = even[i] + odd[i];
    right[i] = even[i] - odd[i];
  }
}

}  // namespace sy::engine
