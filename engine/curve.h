#pragma once
// Smooth functions through points: what the motion's curves over time and the beat grid are
// made of. Monotone cubic Hermite interpolation (Fritsch and Carlson, SIAM J. Numer. Anal.
// 17(2), 1980; the slopes of Fritsch and Butland, as in MATLAB's and SciPy's pchip): the
// first derivative is continuous, and between two points the value never leaves their
// range, so a curve of valid settings stays valid and a beat count never runs backwards.
// Hand-written: Eigen, FFTW and the other libraries here have no pchip, and GSL's
// (gsl_interp_steffen) would be a whole library for forty lines.
#include <cstddef>
#include <vector>

namespace sy::engine {

class MonotoneCubic {
 public:
  // How the function continues outside its first and last point.
  enum class Ends {
    kHold,    // constant at the end values, with zero slope there (keyframe curves)
    kExtend,  // straight on with the end slopes (a beat count before the first beat)
  };

  MonotoneCubic() = default;
  // `x` strictly increasing, as many as `y`, at least one point.
  MonotoneCubic(std::vector<double> x, std::vector<double> y, Ends ends);

  bool empty() const noexcept { return x_.empty(); }
  double value(double x) const noexcept;
  double slope(double x) const noexcept;
  const std::vector<double>& xs() const noexcept { return x_; }
  const std::vector<double>& ys() const noexcept { return y_; }

 private:
  std::size_t segment(double x) const noexcept;  // i with x_[i] <= x < x_[i + 1]

  std::vector<double> x_, y_, m_;  // points and the slope at each
};

// The integral from 0 of 1 / f, for a positive f given as a MonotoneCubic with held ends:
// the number of turns after t seconds when f is the period of a turn. Exact in the held
// ends; inside, Gauss-Legendre over steps of at most a second (a table made once), so the
// result is smooth in t and its derivative is 1 / f to about 1e-12.
class ReciprocalIntegral {
 public:
  ReciprocalIntegral() = default;
  explicit ReciprocalIntegral(MonotoneCubic f);

  double value(double t) const noexcept;
  double rate(double t) const noexcept { return 1.0 / f_.value(t); }

 private:
  double integrate(double a, double b) const noexcept;  // a <= b inside one step

  MonotoneCubic f_;
  std::vector<double> nodes_, sums_;  // sums_[i]: the integral from 0 to nodes_[i]
};

}  // namespace sy::engine
