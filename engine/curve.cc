#include "engine/curve.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <utility>

namespace sy::engine {

MonotoneCubic::MonotoneCubic(std::vector<double> x, std::vector<double> y, Ends ends)
    : x_(std::move(x)), y_(std::move(y)), m_(x_.size(), 0.0) {
  assert(!x_.empty() && x_.size() == y_.size());
  const std::size_t n = x_.size();
  if (n < 2) return;
  std::vector<double> h(n - 1), delta(n - 1);
  for (std::size_t i = 0; i + 1 < n; ++i) {
    h[i] = x_[i + 1] - x_[i];
    delta[i] = (y_[i + 1] - y_[i]) / h[i];
  }
  // Interior slopes: a weighted harmonic mean of the neighbouring secants, zero where the
  // data turns, which is what keeps every piece inside its points' range.
  for (std::size_t i = 1; i + 1 < n; ++i) {
    if (delta[i - 1] * delta[i] <= 0) continue;
    const double w1 = 2 * h[i] + h[i - 1], w2 = h[i] + 2 * h[i - 1];
    m_[i] = (w1 + w2) / (w1 / delta[i - 1] + w2 / delta[i]);
  }
  if (ends == Ends::kExtend) {
    m_.front() = delta.front();
    m_.back() = delta.back();
  }
  // kHold keeps zero slopes at both ends, so the held constant joins with a smooth slope.
}

std::size_t MonotoneCubic::segment(double x) const noexcept {
  const auto it = std::upper_bound(x_.begin(), x_.end(), x);
  const std::size_t i = static_cast<std::size_t>(it - x_.begin());
  return std::min(i == 0 ? 0 : i - 1, x_.size() - 2);
}

double MonotoneCubic::value(double x) const noexcept {
  if (x_.size() == 1) return y_[0];
  if (x <= x_.front()) return y_.front() + m_.front() * (x - x_.front());
  if (x >= x_.back()) return y_.back() + m_.back() * (x - x_.back());
  const std::size_t i = segment(x);
  const double h = x_[i + 1] - x_[i], s = (x - x_[i]) / h;
  const double s2 = s * s, s3 = s2 * s;
  return (2 * s3 - 3 * s2 + 1) * y_[i] + (s3 - 2 * s2 + s) * h * m_[i] + (-2 * s3 + 3 * s2) * y_[i + 1] +
         (s3 - s2) * h * m_[i + 1];
}

double MonotoneCubic::slope(double x) const noexcept {
  if (x_.size() == 1) return 0;
  if (x <= x_.front()) return m_.front();
  if (x >= x_.back()) return m_.back();
  const std::size_t i = segment(x);
  const double h = x_[i + 1] - x_[i], s = (x - x_[i]) / h;
  const double s2 = s * s;
  return (6 * s2 - 6 * s) * y_[i] / h + (3 * s2 - 4 * s + 1) * m_[i] + (-6 * s2 + 6 * s) * y_[i + 1] / h +
         (3 * s2 - 2 * s) * m_[i + 1];
}

namespace {
// 4-point Gauss-Legendre on [-1, 1]: exact for polynomials to degree 7.
constexpr double kNodes[4] = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526};
constexpr double kWeights[4] = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538};
constexpr double kMaxStep = 1.0;  // seconds
}  // namespace

ReciprocalIntegral::ReciprocalIntegral(MonotoneCubic f) : f_(std::move(f)) {
  const std::vector<double>& keys = f_.xs();
  nodes_.push_back(0.0);
  sums_.push_back(0.0);
  double t = 0;
  for (double key : keys) {
    if (key <= t) continue;
    const int steps = static_cast<int>(std::ceil((key - t) / kMaxStep));
    const double start = t;
    for (int i = 1; i <= steps; ++i) {
      const double next = i == steps ? key : start + (key - start) * i / steps;
      sums_.push_back(sums_.back() + integrate(t, next));
      nodes_.push_back(next);
      t = next;
    }
  }
}

double ReciprocalIntegral::integrate(double a, double b) const noexcept {
  const double half = 0.5 * (b - a), mid = 0.5 * (a + b);
  double sum = 0;
  for (int i = 0; i < 4; ++i) sum += kWeights[i] / f_.value(mid + half * kNodes[i]);
  return sum * half;
}

double ReciprocalIntegral::value(double t) const noexcept {
  if (t <= 0) return t / f_.value(0);
  // Past the last node the period is held: a straight line.
  if (t >= nodes_.back()) return sums_.back() + (t - nodes_.back()) / f_.value(nodes_.back());
  const auto it = std::upper_bound(nodes_.begin(), nodes_.end(), t);
  const std::size_t i = static_cast<std::size_t>(it - nodes_.begin()) - 1;
  return sums_[i] + integrate(nodes_[i], t);
}

}  // namespace sy::engine
