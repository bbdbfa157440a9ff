#pragma once
// A least-squares fit of one sinusoid of a known frequency to a series: how the decoder tests
// find a tone's amplitude and the motion tests the strength of a period. Two normal equations
// solved by hand: a library for them would be larger than the fit.
#include <cmath>
#include <cstddef>
#include <numbers>

namespace sy::testing {

struct SineFit {
  double sin_weight = 0, cos_weight = 0;  // y ~ sin_weight * sin + cos_weight * cos
  double explained = 0;                   // the energy of the fitted sinusoid
  double total = 0;                       // the energy of the series
  double amplitude() const { return std::hypot(sin_weight, cos_weight); }
};

// Fits y(i) for i in [begin, end), where the sinusoid advances `cycles_per_sample` a sample.
template <class Series>
SineFit fit_sine(const Series& y, std::size_t begin, std::size_t end, double cycles_per_sample) {
  double ss = 0, sc = 0, cc = 0, ys = 0, yc = 0, yy = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const double w = 2 * std::numbers::pi * cycles_per_sample * static_cast<double>(i);
    const double s = std::sin(w), c = std::cos(w), v = y(i);
    ss += s * s;
    sc += s * c;
    cc += c * c;
    ys += v * s;
    yc += v * c;
    yy += v * v;
  }
  const double det = ss * cc - sc * sc;
  SineFit fit;
  fit.sin_weight = (ys * cc - yc * sc) / det;
  fit.cos_weight = (yc * ss - ys * sc) / det;
  fit.explained = fit.sin_weight * ys + fit.cos_weight * yc;
  fit.total = yy;
  return fit;
}

}  // namespace sy::testing
