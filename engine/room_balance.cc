#include "engine/room_balance.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <random>
#include <utility>
#include <vector>

#include "engine/audio_buffer.h"
#include "engine/design/spectrum.h"

namespace sy::engine {

namespace {

constexpr double kPi = std::numbers::pi;

// First-order high shelf (bilinear, prewarped): unit gain at 0 Hz, `top` (amplitude) at
// Nyquist, the transition centred on corner_hz.
Biquad high_shelf(double rate, double corner_hz, double top) {
  const double k = std::tan(kPi * corner_hz / rate);
  const double s = std::sqrt(top);
  // H(s) = (top s + sqrt(top) w) / (s + sqrt(top) w), s -> (1 - z^-1) / (1 + z^-1) / k.
  const double a0 = 1.0 + s * k;
  Biquad f;
  f.b0 = (top + s * k) / a0;
  f.b1 = (s * k - top) / a0;
  f.a1 = (s * k - 1.0) / a0;
  return f;
}

double power_db(const Biquad& f, double omega) {
  const std::complex<double> z = std::polar(1.0, -omega);
  return 10.0 * std::log10(std::norm((f.b0 + f.b1 * z) / (1.0 + f.a1 * z)));
}

// At z = e^(-i omega), given with its square.
std::complex<double> response(const Biquad& f, std::complex<double> z, std::complex<double> z2) {
  return (f.b0 + f.b1 * z + f.b2 * z2) / (1.0 + f.a1 * z + f.a2 * z2);
}

// Peaking filter (the RBJ cookbook's, bilinear): `gain_db` at centre_hz, unit gain far from it.
Biquad peak(double rate, double centre_hz, double q, double gain_db) {
  const double a = std::pow(10.0, gain_db / 40.0), w = 2.0 * kPi * centre_hz / rate;
  const double alpha = std::sin(w) / (2.0 * q), a0 = 1.0 + alpha / a;
  Biquad f;
  f.b0 = (1.0 + alpha * a) / a0;
  f.b1 = -2.0 * std::cos(w) / a0;
  f.b2 = (1.0 - alpha * a) / a0;
  f.a1 = f.b1;
  f.a2 = (1.0 - alpha / a) / a0;
  return f;
}

// Around the crossover the room hears only the binaural path's share (the highpass), while
// the centred bass is raised by sqrt(1 + R_mid) for what it never sends: the two bands are
// in phase (Linkwitz-Riley), so at the cutoff, each half the amplitude, dry + wet came out
// up to 0.3 dB light (|LP b + HP|^2 + R |HP|^2 against 1 + R, b = sqrt(1 + R)). A peaking
// filter on the dry binaural path fills it in; folded into the decoder's filters with the
// shelf, so it costs nothing while rendering. Fitted by a grid search: about 4,000
// candidates over 60 frequencies, a complex division and a log10 each, once per renderer
// set-up (per song). Timed at 48 kHz on the shared 2-core machine: 20-35 ms (40-70 ms when
// e^(-i omega) was taken again for every candidate), beside the 70-90 ms that measuring the
// room's response above takes; small against a render, so not cached.
Biquad fill_crossover(double rate, double crossover_hz, double r) {
  const double b = std::sqrt(1.0 + r);
  // e^(-i omega) and its square once per frequency, not once per candidate.
  std::vector<std::complex<double>> z, z2;
  std::vector<double> low, high;
  for (double hz = 0.25 * crossover_hz; hz < 8.0 * crossover_hz; hz *= std::pow(2.0, 1.0 / 12.0)) {
    const double x4 = std::pow(hz / crossover_hz, 4.0);
    z.push_back(std::polar(1.0, -2.0 * kPi * hz / rate));
    z2.push_back(z.back() * z.back());
    low.push_back(1.0 / (1.0 + x4));  // the Linkwitz-Riley magnitudes, in phase
    high.push_back(x4 / (1.0 + x4));
  }
  const auto error = [&](const Biquad& f) {
    double e = 0;
    for (std::size_t i = 0; i < z.size(); ++i) {
      const std::complex<double> h = response(f, z[i], z2[i]);
      const double p = std::norm(low[i] * b + high[i] * h) + r * high[i] * high[i] * std::norm(h);
      const double d = 10.0 * std::log10(p / (1.0 + r));
      e += d * d;
    }
    return e;
  };
  Biquad best;
  double best_error = error(best);
  for (double centre = 0.7 * crossover_hz; centre < 2.0 * crossover_hz; centre *= std::pow(2.0, 1.0 / 12.0))
    for (double q = 0.3; q < 2.0; q *= std::pow(2.0, 1.0 / 4.0))
      for (double gain_db = 0.1; gain_db <= 2.0; gain_db += 0.1) {
        const Biquad f = peak(rate, centre, q, gain_db);
        const double e = error(f);
        if (e < best_error) {
          best_error = e;
          best = f;
        }
      }
  return best;
}

}  // namespace

RoomBalance balance_room(const RoomParams& params, double sample_rate, RoomFeed feed, double crossover_hz) {
  // A copy of the room hears independent white noise in each ear long enough to reach its
  // steady state (the reverberation time), then for 2^16 frames that are measured.
  Room room(params);
  constexpr std::size_t kBlock = 1024, kMeasured = 1 << 16;
  room.prepare(sample_rate, kBlock);
  const std::size_t settle = (room.tail() / kBlock + 1) * kBlock;
  std::mt19937 random(1);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  AudioBuffer in(2, kBlock), out(2, kBlock);
  std::vector<float> input[2], wet[2];
  for (std::size_t done = 0; done < settle + kMeasured; done += kBlock) {
    for (std::size_t c = 0; c < 2; ++c)
      for (std::size_t i = 0; i < kBlock; ++i) in.channel(c)[i] = noise(random);
    room.process(std::as_const(in).view(), out.view());
    if (done < settle) continue;
    for (std::size_t c = 0; c < 2; ++c) {
      input[c].insert(input[c].end(), in.channel(c), in.channel(c) + kBlock);
      wet[c].insert(wet[c].end(), out.channel(c), out.channel(c) + kBlock);
    }
  }
  std::vector<double> in_power(kMeasured / 2 + 1, 0.0), wet_power(kMeasured / 2 + 1, 0.0);
  for (std::size_t c = 0; c < 2; ++c) {
    const auto x = real_spectrum(input[c], kMeasured), y = real_spectrum(wet[c], kMeasured);
    for (std::size_t b = 0; b < x.size(); ++b) {
      in_power[b] += std::norm(x[b]);
      wet_power[b] += std::norm(y[b]);
    }
  }
  // R per third octave from 100 Hz to 0.45 x the rate.
  const double bin_hz = sample_rate / kMeasured;
  std::vector<double> centres, ratio;
  for (double hz = 100.0; hz < 0.45 * sample_rate; hz *= std::pow(2.0, 1.0 / 3.0)) {
    double w = 0, x = 0;
    for (auto b = static_cast<std::size_t>(hz * std::pow(2.0, -1.0 / 6.0) / bin_hz);
         b < static_cast<std::size_t>(hz * std::pow(2.0, 1.0 / 6.0) / bin_hz); ++b) {
      w += wet_power[b];
      x += in_power[b];
    }
    centres.push_back(hz);
    ratio.push_back(x > 0 ? w / x : 0.0);
  }
  double mid = 0;
  int count = 0;
  for (std::size_t i = 0; i < centres.size(); ++i)
    if (centres[i] >= 200.0 && centres[i] <= 2000.0) {
      mid += ratio[i];
      ++count;
    }
  mid /= std::max(count, 1);

  RoomBalance balance;
  balance.bass_gain = std::sqrt(1.0 + mid);
  balance.mid_level = mid;
  // The shelf's power gain each band needs (never a cut: the room adds what it adds).
  const auto wanted = [&](double r) {
    return std::max(1.0, feed == RoomFeed::kShelvedDry ? (1.0 + mid) / (1.0 + r) : 1.0 + mid - r);
  };
  // The shelf's top is what the highest band needs; its corner the best fit above 1 kHz
  // (a search over 200 corners: two parameters, a start-up cost of microseconds).
  const double top = std::sqrt(wanted(ratio.back()));
  double best = 1e300;
  for (double corner = 1000.0; corner < 0.45 * sample_rate; corner *= std::pow(2.0, 1.0 / 40.0)) {
    const Biquad shelf = high_shelf(sample_rate, corner, top);
    double error = 0;
    for (std::size_t i = 0; i < centres.size(); ++i) {
      if (centres[i] < 1000.0) continue;
      const double want = 10.0 * std::log10(wanted(ratio[i]));
      const double e = power_db(shelf, 2.0 * kPi * centres[i] / sample_rate) - want;
      error += e * e;
    }
    if (error < best) {
      best = error;
      balance.dry_shelf = shelf;
    }
  }
  if (feed == RoomFeed::kShelvedDry && crossover_hz > 0) balance.dry_fill = fill_crossover(sample_rate, crossover_hz, mid);
  return balance;
}

}  // namespace sy::engine
