#include "engine/crossover.h"

#include <cmath>
#include <numbers>

namespace sy::engine {

namespace {

// Second-order Butterworth (Q = 1/sqrt(2)) sections via the bilinear transform with
// prewarping; a hand-written biquad because it is a dozen lines and no Debian package
// offers a plain C++ one without a framework around it.
void butterworth(double sample_rate, double cutoff_hz, bool highpass, Biquad& f) {
  const double k = std::tan(std::numbers::pi * cutoff_hz / sample_rate);
  const double k2 = k * k;
  const double norm = 1.0 / (1.0 + std::numbers::sqrt2 * k + k2);
  if (highpass) {
    f.b0 = norm;
    f.b1 = -2.0 * norm;
    f.b2 = norm;
  } else {
    f.b0 = k2 * norm;
    f.b1 = 2.0 * k2 * norm;
    f.b2 = k2 * norm;
  }
  f.a1 = 2.0 * (k2 - 1.0) * norm;
  f.a2 = (1.0 - std::numbers::sqrt2 * k + k2) * norm;
  f.reset();
}

}  // namespace

void LinkwitzRiley4::prepare(double sample_rate, double cutoff_hz) {
  for (int i = 0; i < 2; ++i) {
    butterworth(sample_rate, cutoff_hz, false, low_[i]);
    butterworth(sample_rate, cutoff_hz, true, high_[i]);
  }
}

void LinkwitzRiley4::reset() noexcept {
  for (int i = 0; i < 2; ++i) {
    low_[i].reset();
    high_[i].reset();
  }
}

void LinkwitzRiley4::process(std::span<const float> in, std::span<float> low, std::span<float> high) noexcept {
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double x = static_cast<double>(in[i]);
    const double l = low_[1].tick(low_[0].tick(x));
    const double h = high_[1].tick(high_[0].tick(x));
    low[i] = static_cast<float>(l);
    high[i] = static_cast<float>(h);
  }
}

void StereoLinkwitzRiley4::prepare(double sample_rate, double cutoff_hz) {
  for (int i = 0; i < 4; ++i) {
    Biquad f;
    butterworth(sample_rate, cutoff_hz, i >= 2, f);
    sections_[i] = Section{f.b0, f.b1, f.b2, f.a1, f.a2};
  }
  reset();
}

void StereoLinkwitzRiley4::reset() noexcept {
  for (int s = 0; s < 4; ++s)
    for (int c = 0; c < 2; ++c) z1_[s][c] = z2_[s][c] = 0.0;
}

namespace {
// Two doubles, left and right: GCC and Clang map this onto one SSE2/NEON register.
using Pair = double __attribute__((vector_size(16)));
}  // namespace

void StereoLinkwitzRiley4::process(ConstAudioView in, AudioView low, AudioView high) noexcept {
  const std::size_t n = in.num_frames();
  const float* in_l = in.channel(0);
  const float* in_r = in.channel(1);
  float* low_l = low.channel(0);
  float* low_r = low.channel(1);
  float* high_l = high.channel(0);
  float* high_r = high.channel(1);
  Pair b0[4], b1[4], b2[4], a1[4], a2[4], z1[4], z2[4];
  for (int s = 0; s < 4; ++s) {
    b0[s] = Pair{sections_[s].b0, sections_[s].b0};
    b1[s] = Pair{sections_[s].b1, sections_[s].b1};
    b2[s] = Pair{sections_[s].b2, sections_[s].b2};
    a1[s] = Pair{sections_[s].a1, sections_[s].a1};
    a2[s] = Pair{sections_[s].a2, sections_[s].a2};
    z1[s] = Pair{z1_[s][0], z1_[s][1]};
    z2[s] = Pair{z2_[s][0], z2_[s][1]};
  }
  // Transposed direct form II, exactly as Biquad::tick.
  const auto tick = [&](int s, Pair x) {
    const Pair y = b0[s] * x + z1[s];
    z1[s] = b1[s] * x - a1[s] * y + z2[s];
    z2[s] = b2[s] * x - a2[s] * y;
    return y;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const Pair x{static_cast<double>(in_l[i]), static_cast<double>(in_r[i])};
    const Pair l = tick(1, tick(0, x));
    const Pair h = tick(3, tick(2, x));
    low_l[i] = static_cast<float>(l[0]);
    low_r[i] = static_cast<float>(l[1]);
    high_l[i] = static_cast<float>(h[0]);
    high_r[i] = static_cast<float>(h[1]);
  }
  for (int s = 0; s < 4; ++s)
    for (int c = 0; c < 2; ++c) {
      z1_[s][c] = z1[s][c];
      z2_[s][c] = z2[s][c];
    }
}

}  // namespace sy::engine
