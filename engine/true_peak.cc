#include "engine/true_peak.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "engine/vector_clones.h"

namespace sy::engine {

namespace {

double bessel_i0(double x) {
  double sum = 1.0, term = 1.0;
  for (int k = 1; k < 50; ++k) {
    term *= (x / (2.0 * k)) * (x / (2.0 * k));
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

double kaiser(double x, double half_width, double beta) {
  const double r = x / half_width;
  if (r <= -1.0 || r >= 1.0) return 0.0;
  return bessel_i0(beta * std::sqrt(1.0 - r * r)) / bessel_i0(beta);
}

double sinc(double x) {
  if (x == 0.0) return 1.0;
  return std::sin(std::numbers::pi * x) / (std::numbers::pi * x);
}

TruePeakInterpolator design() {
  using I = TruePeakInterpolator;
  constexpr double kBeta = 8.0;
  I ip;
  for (std::size_t p = 0; p + 1 < I::kOversample; ++p) {
    const double frac = static_cast<double>(p + 1) / static_cast<double>(I::kOversample);
    double sum = 0;
    std::array<double, I::kTaps> c{};
    for (std::size_t j = 0; j < I::kTaps; ++j) {
      const double d = static_cast<double>(I::kHalfTaps) - 1.0 + frac - static_cast<double>(j);
      c[j] = sinc(d) * kaiser(d, static_cast<double>(I::kHalfTaps), kBeta);
      sum += c[j];
    }
    double abs_sum = 0;
    for (std::size_t j = 0; j < I::kTaps; ++j) {
      ip.phases[p][j] = static_cast<float>(c[j] / sum);
      abs_sum += std::abs(static_cast<double>(ip.phases[p][j]));
    }
    // A little over the exact sum, for float rounding in the FIR.
    ip.bound = std::max(ip.bound, static_cast<float>(abs_sum * 1.001));
  }
  return ip;
}

// The largest |value| among the samples and interpolated points whose windows start at
// win[0 .. outputs) (outputs <= kChunk): each window is kTaps long, its sample kHalfTaps - 1
// in. Per-output maxima in `best`, reduced at the end: a float max reduction does not
// vectorise without -ffast-math, an element-wise max does.
SY_VECTOR_CLONES float window_peak(const float* __restrict win, std::size_t outputs, float* __restrict acc,
                                   float* __restrict best) noexcept {
  using I = TruePeakInterpolator;
  const TruePeakInterpolator& ip = true_peak_interpolator();
  for (std::size_t i = 0; i < outputs; ++i) best[i] = std::abs(win[i + I::kHalfTaps - 1]);
  for (std::size_t p = 0; p + 1 < I::kOversample; ++p) {
    const float* coef = ip.phases[p].data();
    std::fill(acc, acc + outputs, 0.0f);
    for (std::size_t j = 0; j < I::kTaps; ++j) {
      const float k = coef[j];
      const float* x = win + j;
      for (std::size_t i = 0; i < outputs; ++i) acc[i] += k * x[i];
    }
    for (std::size_t i = 0; i < outputs; ++i) best[i] = std::max(best[i], std::abs(acc[i]));
  }
  float peak = 0.0f;
  for (std::size_t i = 0; i < outputs; ++i) peak = std::max(peak, best[i]);
  return peak;
}

}  // namespace

SY_VECTOR_CLONES float largest_magnitude(const float* x, std::size_t n) noexcept {
  constexpr std::size_t kLanes = 8;
  float lanes[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (std::size_t k = 0; k < kLanes; ++k) lanes[k] = std::max(lanes[k], std::abs(x[i + k]));
  float m = 0.0f;
  for (; i < n; ++i) m = std::max(m, std::abs(x[i]));
  for (float l : lanes) m = std::max(m, l);
  return m;
}

const TruePeakInterpolator& true_peak_interpolator() {
  static const TruePeakInterpolator ip = design();
  return ip;
}

void TruePeakMeter::add(ConstAudioView audio) noexcept {
  const std::size_t frames = audio.num_frames();
  for (std::size_t done = 0; done < frames; done += kChunk) {
    const std::size_t n = std::min(kChunk, frames - done);
    add_chunk(audio.channel(0) + done, audio.channel(1) + done, n);
  }
}

void TruePeakMeter::add_chunk(const float* left, const float* right, std::size_t frames) noexcept {
  static_assert(kKeep < kGroup && kChunk % kGroup == 0);
  const float* in[2] = {left, right};
  const float bound = true_peak_interpolator().bound;
  for (std::size_t c = 0; c < 2; ++c) {
    float* win = window_[c].data();
    std::copy_n(in[c], frames, win + kKeep);
    // Outputs [o, o + kGroup) read the kKeep samples before sample o and the group's own:
    // no louder than the loudest of this group and the one before. Where that times the
    // interpolator's gain cannot pass the peak so far, the FIR is skipped: the answer is the
    // same, and most of a song is such.
    float before = loudest_before_[c];
    for (std::size_t o = 0; o < frames; o += kGroup) {
      const std::size_t n = std::min(kGroup, frames - o);
      const float loudest = largest_magnitude(in[c] + o, n);
      if (std::max(loudest, before) * bound > peak_)
        peak_ = std::max(peak_, window_peak(win + o, n, acc_.data(), best_.data()));
      // A short last group: the next chunk's first group reaches back past it.
      before = n == kGroup ? loudest : std::max(before, loudest);
    }
    loudest_before_[c] = before;
  }
  for (auto& w : window_) std::copy(w.data() + frames, w.data() + frames + kKeep, w.data());
}

float TruePeakMeter::peak() const noexcept {
  // The last kHalfTaps samples are centres of windows still waiting for samples: finish
  // them with silence, on a copy.
  constexpr std::size_t kTail = TruePeakInterpolator::kHalfTaps;
  float peak = peak_;
  for (std::size_t c = 0; c < 2; ++c) {
    std::array<float, kKeep + kTail> win{};
    std::copy_n(window_[c].data(), kKeep, win.data());
    std::array<float, kTail> acc{}, best{};
    peak = std::max(peak, window_peak(win.data(), kTail, acc.data(), best.data()));
  }
  return peak;
}

}  // namespace sy::engine
