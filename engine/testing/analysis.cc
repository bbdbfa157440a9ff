#include "engine/testing/analysis.h"

#include <ebur128.h>
#include <fftw3.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <limits>
#include <mutex>
#include <numbers>
#include <random>

#include "engine/convolver.h"
#include "engine/loudness.h"

namespace sy::testing {

namespace {

constexpr double kPi = std::numbers::pi;

// Butterworth low-pass section (RBJ cookbook) in double precision.
struct LowPass {
  double b0, b1, b2, a1, a2, z1 = 0, z2 = 0;
  LowPass(double hz, double rate, double q) {
    const double w = 2 * kPi * hz / rate, c = std::cos(w), alpha = std::sin(w) / (2 * q);
    const double a0 = 1 + alpha;
    b0 = (1 - c) / 2 / a0;
    b1 = (1 - c) / a0;
    b2 = b0;
    a1 = -2 * c / a0;
    a2 = (1 - alpha) / a0;
  }
  double tick(double x) {
    const double y = b0 * x + z1;
    z1 = b1 * x - a1 * y + z2;
    z2 = b2 * x - a2 * y;
    return y;
  }
};

std::vector<double> lowpass4(const std::vector<float>& x, double hz, double rate) {
  LowPass a(hz, rate, 0.5411961), b(hz, rate, 1.3065630);
  std::vector<double> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = b.tick(a.tick(double{x[i]}));
  return y;
}

std::vector<double> power_spectrum(const std::vector<float>& x, std::size_t begin, std::size_t length) {
  std::vector<float> in(length);
  for (std::size_t i = 0; i < length; ++i) {
    const double p = 2 * kPi * static_cast<double>(i) / static_cast<double>(length - 1);
    const double w = 0.35875 - 0.48829 * std::cos(p) + 0.14128 * std::cos(2 * p) - 0.01168 * std::cos(3 * p);
    in[i] = static_cast<float>(w * double{x[begin + i]});
  }
  const std::size_t bins = length / 2 + 1;
  std::vector<std::complex<float>> out(bins);
  fftwf_plan plan;
  {
    const std::lock_guard<std::mutex> lock(engine::fftw_planner_mutex());
    plan = fftwf_plan_dft_r2c_1d(static_cast<int>(length), in.data(),
                                 reinterpret_cast<fftwf_complex*>(out.data()), FFTW_ESTIMATE);
  }
  fftwf_execute(plan);
  {
    const std::lock_guard<std::mutex> lock(engine::fftw_planner_mutex());
    fftwf_destroy_plan(plan);
  }
  std::vector<double> power(bins);
  for (std::size_t k = 0; k < bins; ++k) power[k] = double{std::norm(out[k])};
  return power;
}

}  // namespace

std::vector<float> lowpass(const std::vector<float>& x, double hz, double sample_rate) {
  const std::vector<double> y = lowpass4(x, hz, sample_rate);
  std::vector<float> out(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) out[i] = static_cast<float>(y[i]);
  return out;
}

std::vector<float> white_noise(std::size_t frames, unsigned seed, float amplitude) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-amplitude, amplitude);
  std::vector<float> out(frames);
  for (float& x : out) x = dist(gen);
  return out;
}

std::vector<float> pink_noise(std::size_t frames, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  constexpr int kRows = 16;
  double rows[kRows];
  double sum = 0;
  for (double& r : rows) {
    r = dist(gen);
    sum += r;
  }
  std::vector<float> out(frames);
  for (std::size_t n = 0; n < frames; ++n) {
    // Row k changes every 2^k samples (the lowest set bit of the counter picks it).
    const std::size_t counter = n + 1;
    const int k = std::min(kRows - 1, std::countr_zero(counter));
    sum -= rows[k];
    rows[k] = dist(gen);
    sum += rows[k];
    out[n] = static_cast<float>((sum + dist(gen)) * 0.1 / std::sqrt(kRows / 3.0));
  }
  return out;
}

std::vector<float> sine(std::size_t frames, double hz, double sample_rate, float amplitude) {
  std::vector<float> out(frames);
  for (std::size_t n = 0; n < frames; ++n)
    out[n] = amplitude * static_cast<float>(std::sin(2 * kPi * hz * static_cast<double>(n) / sample_rate));
  return out;
}

Stereo render(engine::StereoProcessor& processor, const std::vector<float>& left, const std::vector<float>& right,
              std::size_t block) {
  const std::size_t frames = left.size();
  const std::size_t latency = processor.latency();
  const std::size_t total = frames + latency;
  std::vector<float> in_l(total, 0.0f), in_r(total, 0.0f);
  std::copy(left.begin(), left.end(), in_l.begin());
  std::copy(right.begin(), right.end(), in_r.begin());
  std::vector<float> out_l(total), out_r(total);
  const engine::ConstAudioView in({in_l.data(), in_r.data()}, total);
  const engine::AudioView out({out_l.data(), out_r.data()}, total);
  for (std::size_t pos = 0; pos < total; pos += block) {
    const std::size_t n = std::min(block, total - pos);
    processor.process(in.slice(pos, n), out.slice(pos, n));
  }
  Stereo s;
  s.left.assign(out_l.begin() + static_cast<std::ptrdiff_t>(latency), out_l.end());
  s.right.assign(out_r.begin() + static_cast<std::ptrdiff_t>(latency), out_r.end());
  return s;
}

std::vector<double> ild_series_db(const Stereo& s, std::size_t window, std::size_t hop) {
  std::vector<double> out;
  for (std::size_t pos = 0; pos + window <= s.left.size(); pos += hop) {
    double el = 1e-20, er = 1e-20;
    for (std::size_t i = pos; i < pos + window; ++i) {
      el += double{s.left[i]} * double{s.left[i]};
      er += double{s.right[i]} * double{s.right[i]};
    }
    out.push_back(10 * std::log10(el / er));
  }
  return out;
}

std::vector<double> itd_series_ms(const Stereo& s, double sample_rate, std::size_t window, std::size_t hop,
                                  double lowpass_hz, double max_lag_ms) {
  const std::vector<double> l = lowpass4(s.left, lowpass_hz, sample_rate);
  const std::vector<double> r = lowpass4(s.right, lowpass_hz, sample_rate);
  const auto max_lag = static_cast<std::ptrdiff_t>(std::lround(max_lag_ms * 1e-3 * sample_rate));
  std::vector<double> out;
  for (std::size_t pos = static_cast<std::size_t>(max_lag); pos + window + static_cast<std::size_t>(max_lag) <= l.size();
       pos += hop) {
    std::vector<double> xc(static_cast<std::size_t>(2 * max_lag + 1));
    for (std::ptrdiff_t lag = -max_lag; lag <= max_lag; ++lag) {
      double acc = 0;
      for (std::size_t i = pos; i < pos + window; ++i)
        acc += l[i] * r[static_cast<std::size_t>(static_cast<std::ptrdiff_t>(i) + lag)];
      xc[static_cast<std::size_t>(lag + max_lag)] = acc;
    }
    const auto best = static_cast<std::size_t>(std::max_element(xc.begin(), xc.end()) - xc.begin());
    double frac = 0;
    if (best > 0 && best + 1 < xc.size()) {
      const double a = xc[best - 1], b = xc[best], c = xc[best + 1];
      const double d = a - 2 * b + c;
      if (d < 0) frac = 0.5 * (a - c) / d;
    }
    const double lag = static_cast<double>(best) - static_cast<double>(max_lag) + frac;
    out.push_back(lag / sample_rate * 1e3);
  }
  return out;
}

double dominant_period_seconds(const std::vector<double>& series, double hop_seconds, double min_period,
                               double max_period) {
  double mean = 0;
  for (double v : series) mean += v / static_cast<double>(series.size());
  double best_f = 0, best_power = -1;
  const double f_low = 1.0 / max_period, f_high = 1.0 / min_period;
  const double step = (f_high - f_low) / 20000.0;
  for (double f = f_low; f <= f_high; f += step) {
    std::complex<double> acc = 0;
    for (std::size_t i = 0; i < series.size(); ++i)
      acc += (series[i] - mean) * std::polar(1.0, -2 * kPi * f * hop_seconds * static_cast<double>(i));
    if (std::norm(acc) > best_power) {
      best_power = std::norm(acc);
      best_f = f;
    }
  }
  return 1.0 / best_f;
}

std::vector<double> zero_crossings(const std::vector<double>& series) {
  std::vector<double> out;
  for (std::size_t i = 0; i + 1 < series.size(); ++i) {
    const double a = series[i], b = series[i + 1];
    if ((a < 0 && b >= 0) || (a >= 0 && b < 0)) out.push_back(static_cast<double>(i) + a / (a - b));
  }
  return out;
}

std::vector<double> moving_average(const std::vector<double>& series, std::size_t half_width) {
  std::vector<double> out(series.size());
  for (std::size_t i = 0; i < series.size(); ++i) {
    const std::size_t begin = i >= half_width ? i - half_width : 0;
    const std::size_t end = std::min(series.size(), i + half_width + 1);
    double sum = 0;
    for (std::size_t j = begin; j < end; ++j) sum += series[j];
    out[i] = sum / static_cast<double>(end - begin);
  }
  return out;
}

double off_tone_db(const std::vector<float>& x, double sample_rate, double tone_hz, double guard_hz) {
  const std::vector<double> power = power_spectrum(x, 0, x.size());
  const double bin_hz = sample_rate / static_cast<double>(x.size());
  double inside = 0, outside = 0;
  for (std::size_t k = 0; k < power.size(); ++k) {
    const double f = static_cast<double>(k) * bin_hz;
    (std::abs(f - tone_hz) <= guard_hz ? inside : outside) += power[k];
  }
  return 10 * std::log10((outside + 1e-30) / (inside + 1e-30));
}

std::vector<double> band_levels_db(const std::vector<float>& x, std::size_t begin, std::size_t length,
                                   double sample_rate, double low_hz, double high_hz) {
  const std::vector<double> power = power_spectrum(x, begin, length);
  const double bin_hz = sample_rate / static_cast<double>(length);
  std::vector<double> out;
  for (double centre = low_hz; centre <= high_hz * 1.0001; centre *= std::pow(2.0, 1.0 / 3.0)) {
    const double lo = centre * std::pow(2.0, -1.0 / 6.0), hi = centre * std::pow(2.0, 1.0 / 6.0);
    double e = 1e-30;
    for (std::size_t k = 0; k < power.size(); ++k) {
      const double f = static_cast<double>(k) * bin_hz;
      if (f >= lo && f < hi) e += power[k];
    }
    out.push_back(10 * std::log10(e));
  }
  return out;
}

std::vector<double> short_term_loudness(const Stereo& s, int sample_rate, std::size_t hop) {
  engine::LoudnessMeter meter(sample_rate, false, false, /*readings_between_steps=*/true);
  std::vector<double> out;
  for (std::size_t pos = 0; pos + hop <= s.left.size(); pos += hop) {
    meter.add(engine::ConstAudioView({s.left.data(), s.right.data()}, s.left.size()).slice(pos, hop));
    out.push_back(meter.short_term_lufs());
  }
  return out;
}

double correlation(const std::vector<float>& a, const std::vector<float>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ma += double{a[i]};
    mb += double{b[i]};
  }
  ma /= static_cast<double>(n);
  mb /= static_cast<double>(n);
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double da = double{a[i]} - ma, db = double{b[i]} - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / std::sqrt(saa * sbb + 1e-30);
}

double libebur128_true_peak_dbtp(const Stereo& s, int sample_rate) {
  ebur128_state* st = ebur128_init(2, static_cast<unsigned long>(sample_rate), EBUR128_MODE_TRUE_PEAK);
  std::vector<float> interleaved(2 * s.left.size());
  for (std::size_t i = 0; i < s.left.size(); ++i) {
    interleaved[2 * i] = s.left[i];
    interleaved[2 * i + 1] = s.right[i];
  }
  ebur128_add_frames_float(st, interleaved.data(), s.left.size());
  double peak = 0;
  for (unsigned c = 0; c < 2; ++c) {
    double v = 0;
    ebur128_true_peak(st, c, &v);
    peak = std::max(peak, v);
  }
  ebur128_destroy(&st);
  return peak > 0 ? 20.0 * std::log10(peak) : -std::numeric_limits<double>::infinity();
}

Libebur128Loudness libebur128_loudness(const Stereo& s, int sample_rate, std::size_t momentary_hop) {
  ebur128_state* st = ebur128_init(2, static_cast<unsigned long>(sample_rate),
                                   EBUR128_MODE_I | EBUR128_MODE_S | EBUR128_MODE_M | EBUR128_MODE_LRA |
                                       EBUR128_MODE_HISTOGRAM);
  Libebur128Loudness out;
  std::vector<float> interleaved;
  for (std::size_t pos = 0; pos < s.left.size(); pos += momentary_hop) {
    const std::size_t n = std::min(momentary_hop, s.left.size() - pos);
    interleaved.resize(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
      interleaved[2 * i] = s.left[pos + i];
      interleaved[2 * i + 1] = s.right[pos + i];
    }
    ebur128_add_frames_float(st, interleaved.data(), n);
    double v = 0;
    ebur128_loudness_momentary(st, &v);
    out.momentary.push_back(v);
    ebur128_loudness_shortterm(st, &v);
    out.short_term.push_back(v);
  }
  ebur128_loudness_global(st, &out.integrated_lufs);
  ebur128_loudness_range(st, &out.loudness_range_lu);
  ebur128_destroy(&st);
  return out;
}

}  // namespace sy::testing
