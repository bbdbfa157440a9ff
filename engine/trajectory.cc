#include "engine/trajectory.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <utility>

#include "engine/curve.h"

namespace sy::engine {

namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kDegree = kPi / 180.0;

MonotoneCubic keyframe_curve(const Keyframes& keys, double scale) {
  std::vector<double> x, y;
  for (const Keyframe& k : keys) {
    x.push_back(k.seconds);
    y.push_back(k.value * scale);
  }
  return MonotoneCubic(std::move(x), std::move(y), MonotoneCubic::Ends::kHold);
}

class SteadyTurns final : public TurnCount {
 public:
  explicit SteadyTurns(double period) : rate_(1.0 / period) {}
  double turns(double t) const noexcept override { return t * rate_; }
  double rate(double) const noexcept override { return rate_; }

 private:
  double rate_;
};

class CurveTurns final : public TurnCount {
 public:
  explicit CurveTurns(const Keyframes& period) : count_(keyframe_curve(period, 1.0)) {}
  double turns(double t) const noexcept override { return count_.value(t); }
  double rate(double t) const noexcept override { return count_.rate(t); }

 private:
  ReciprocalIntegral count_;
};

class BeatTurns final : public TurnCount {
 public:
  BeatTurns(const BeatGrid& grid, double beats_per_turn)
      : beat_(smoothed(grid.beats), counts(grid.beats.size()), MonotoneCubic::Ends::kExtend),
        first_downbeat_(static_cast<double>(grid.first_downbeat)),
        beats_per_turn_(beats_per_turn) {}
  double turns(double t) const noexcept override { return (beat_.value(t) - first_downbeat_) / beats_per_turn_; }
  double rate(double t) const noexcept override { return beat_.slope(t) / beats_per_turn_; }

 private:
  // The beat count as a function of time: x the (smoothed) beat times, y 0, 1, 2, ...
  static std::vector<double> smoothed(const std::vector<double>& beats) {
    constexpr std::ptrdiff_t kHalf = 2;  // five beats
    const auto n = static_cast<std::ptrdiff_t>(beats.size());
    std::vector<double> out(beats.size());
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, i - kHalf), hi = std::min(n - 1, i + kHalf);
      // Least-squares line time = a + b * index through the neighbours, read at i.
      double sx = 0, sy = 0, sxx = 0, sxy = 0;
      const double count = static_cast<double>(hi - lo + 1);
      for (std::ptrdiff_t j = lo; j <= hi; ++j) {
        const double x = static_cast<double>(j - i);
        sx += x;
        sy += beats[static_cast<std::size_t>(j)];
        sxx += x * x;
        sxy += x * beats[static_cast<std::size_t>(j)];
      }
      const double denominator = count * sxx - sx * sx;
      const double b = denominator > 0 ? (count * sxy - sx * sy) / denominator : 0;
      out[static_cast<std::size_t>(i)] = (sy - b * sx) / count;
    }
    // A line fit keeps the order of evenly spread beats; guard wild ones anyway.
    for (std::size_t i = 1; i < out.size(); ++i) out[i] = std::max(out[i], out[i - 1] + 1e-3);
    return out;
  }
  static std::vector<double> counts(std::size_t n) {
    std::vector<double> y(n);
    for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<double>(i);
    return y;
  }

  MonotoneCubic beat_;
  double first_downbeat_;
  double beats_per_turn_;
};

// Cubic Hermite piece on [a, b] from (y0, slope s0) to (y1, slope s1).
struct Ease {
  double a = 0, b = 0, y0 = 0, s0 = 0, y1 = 0, s1 = 0;
  double value(double t) const noexcept {
    const double h = b - a, s = (t - a) / h, s2 = s * s, s3 = s2 * s;
    return (2 * s3 - 3 * s2 + 1) * y0 + (s3 - 2 * s2 + s) * h * s0 + (-2 * s3 + 3 * s2) * y1 + (s3 - s2) * h * s1;
  }
  double slope(double t) const noexcept {
    const double h = b - a, s = (t - a) / h, s2 = s * s;
    return (6 * s2 - 6 * s) * y0 / h + (3 * s2 - 4 * s + 1) * s0 + (-6 * s2 + 6 * s) * y1 / h + (3 * s2 - 2 * s) * s1;
  }
};

// A Hermite piece from rest (slope 0) over a distance d in time L never runs backwards and
// never outruns its end speed m when m * L / 3 <= d <= 2 * m * L / 3 (its speed profile is
// then between m * s^2 and m * (2s - s^2)). The whole turn in that window, if any:
bool whole_turn_between(double lo, double hi, double* k) {
  const double c = std::ceil(lo - 1e-9);
  if (c > hi + 1e-9) return false;
  *k = c;
  return true;
}

class FadedTurns final : public TurnCount {
 public:
  FadedTurns(std::unique_ptr<TurnCount> inner, double fade, double duration, bool locked) : body_(std::move(inner)) {
    constexpr double kSearchStep = 0.01;  // seconds
    constexpr double kSearchSpan = 60.0;  // at most this much longer than asked
    // A free-running count may start anywhere: shift it so the ease-in lands on it exactly
    // after `fade` with the natural (constant-acceleration) profile.
    if (!locked) offset_ = body_->turns(fade) - body_->rate(fade) * fade / 2;
    const double limit = duration > 0 ? duration : fade + kSearchSpan;
    bool have_in = false;
    double k = 0;
    for (double t = fade; t <= std::min(limit, fade + kSearchSpan); t += kSearchStep) {
      const double y = body(t), m = body_->rate(t);
      // The start value k (a whole turn) must leave between m*t/3 and 2*m*t/3 to cover.
      if (whole_turn_between(y - 2 * m * t / 3, y - m * t / 3, &k)) {
        in_ = Ease{0, t, k, 0, y, m};
        have_in = true;
        break;
      }
    }
    if (duration <= 0) {
      if (!have_in) in_ = Ease{};  // no lock possible within reach: no ease
      return;
    }
    bool have_out = false;
    const double earliest = have_in ? in_.b : 0.0;
    for (double t = duration - fade; have_in && t >= std::max(earliest, duration - fade - kSearchSpan);
         t -= kSearchStep) {
      const double y = body(t), m = body_->rate(t), length = duration - t;
      if (whole_turn_between(y + m * length / 3, y + 2 * m * length / 3, &k)) {
        out_ = Ease{t, duration, y, m, k, 0};
        have_out = true;
        break;
      }
    }
    if (!have_out) {
      // Too short for both eases: one smooth move from rest in front to rest in front.
      // As many whole turns as fit without outrunning the body's speed (a Hermite piece from
      // rest to rest peaks at 1.5 times its mean speed), and at least one.
      const double whole = std::max(1.0, std::floor(2.0 / 3.0 * (body_->turns(duration) - body_->turns(0))));
      in_ = Ease{0, duration, 0, 0, whole, 0};
      out_ = Ease{duration, duration, whole, 0, whole, 0};
    }
  }

  double turns(double t) const noexcept override {
    if (in_.b > 0 && t < in_.b) return t <= 0 ? in_.y0 : in_.value(t);
    if (out_.b > 0 && t >= out_.a) return t >= out_.b ? out_.y1 : out_.value(t);
    return body(t);
  }
  double rate(double t) const noexcept override {
    if (in_.b > 0 && t < in_.b) return t <= 0 ? 0 : in_.slope(t);
    if (out_.b > 0 && t >= out_.a) return t >= out_.b ? 0 : out_.slope(t);
    return body_->rate(t);
  }

 private:
  double body(double t) const noexcept { return body_->turns(t) - offset_; }

  std::unique_ptr<TurnCount> body_;
  double offset_ = 0;
  Ease in_, out_;  // b == 0: none
};

// The circle and the figure eight: the phase of the turn count sets the bearing; the figure
// eight swings from side to side through the front and rises twice per turn.
class TurnPath final : public MotionPath {
 public:
  enum class Shape { kCircle, kFigureEight };
  TurnPath(Shape shape, std::unique_ptr<TurnCount> count, double sign, MonotoneCubic elevation)
      : shape_(shape), count_(std::move(count)), sign_(sign), elevation_(std::move(elevation)) {}
  Bearing at(double t) const noexcept override {
    const double phase = 2 * kPi * count_->turns(t);
    if (shape_ == Shape::kFigureEight)
      return {sign_ * kPi * std::sin(phase), elevation_.value(t) * std::sin(2.0 * phase)};
    return {sign_ * phase, elevation_.value(t) * std::sin(phase)};
  }
  bool elevated() const noexcept override {
    return shape_ == Shape::kFigureEight ||
           std::any_of(elevation_.ys().begin(), elevation_.ys().end(), [](double e) { return e != 0.0; });
  }

 private:
  Shape shape_;
  std::unique_ptr<TurnCount> count_;
  double sign_;
  MonotoneCubic elevation_;
};

// Random access into a repeatable random sequence: control point i depends only on
// (seed, i), so the path needs no state and no storage.
std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
double uniform(std::uint64_t seed, std::uint64_t index, std::uint64_t stream) {
  return static_cast<double>(mix(mix(seed * 4 + stream) ^ index) >> 11) * 0x1.0p-53;
}

// Raised-cosine ramps up over [0, fade] and down over [duration - fade, duration]: smooth
// at both ends of each ramp.
double fade_envelope(double t, double fade, double duration) noexcept {
  if (fade <= 0) return 1;
  if (duration > 0) fade = std::min(fade, duration / 2);
  auto ramp = [fade](double x) { return x <= 0 ? 0.0 : x >= fade ? 1.0 : 0.5 - 0.5 * std::cos(kPi * x / fade); };
  return ramp(t) * (duration > 0 ? ramp(duration - t) : 1.0);
}

class LegacyPath final : public MotionPath {
 public:
  LegacyPath(std::unique_ptr<TurnCount> count, unsigned seed, double fade, double duration)
      : count_(std::move(count)), seed_(seed), fade_(fade), duration_(duration) {}
  Bearing at(double t) const noexcept override {
    // A control point every quarter turn.
    const double u = std::max(0.0, 4.0 * count_->turns(t));
    const auto i = static_cast<std::int64_t>(std::floor(u));
    const double f = u - static_cast<double>(i);
    const double p0 = point(i - 1), p1 = point(i), p2 = point(i + 1), p3 = point(i + 2);
    // Catmull-Rom: passes through the control points with a continuous slope.
    const double az = p1 + 0.5 * f * (p2 - p0 + f * (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3 + f * (3.0 * (p1 - p2) + p3 - p0)));
    return {az * fade_envelope(t, fade_, duration_), 0.0};
  }
  bool elevated() const noexcept override { return false; }

 private:
  // The side mostly alternates (3 times in 4 the point sits on the other side of the
  // previous one's default) and the angle is 40..100 degrees off centre: the left/right
  // sway people knew, but with time and level cues.
  double side(std::int64_t i) const noexcept {
    const double alternate = (i % 2 == 0) ? -1.0 : 1.0;
    return uniform(seed_, static_cast<std::uint64_t>(i), 0) < 0.25 ? -alternate : alternate;
  }
  double point(std::int64_t i) const noexcept {
    if (i <= 0) return 0.0;  // start in front
    return side(i) * (40.0 + 60.0 * uniform(seed_, static_cast<std::uint64_t>(i), 1)) * kDegree;
  }

  std::unique_ptr<TurnCount> count_;
  std::uint64_t seed_;
  double fade_, duration_;
};

bool beat_synced(const EngineSettings& s, const MotionContext& c) {
  return s.beats_per_turn > 0 && c.beats != nullptr && c.beats->beats.size() >= 2;
}

std::unique_ptr<TurnCount> body_count(const EngineSettings& s, const MotionContext& c) {
  if (beat_synced(s, c)) return std::make_unique<BeatTurns>(*c.beats, s.beats_per_turn);
  if (!s.period_curve.empty()) return std::make_unique<CurveTurns>(s.period_curve);
  return std::make_unique<SteadyTurns>(s.period_seconds);
}

}  // namespace

// A curve of one point is a constant.
MonotoneCubic setting_over_time(const Keyframes& curve, double fixed, double scale) {
  if (!curve.empty()) return keyframe_curve(curve, scale);
  return MonotoneCubic({0.0}, {fixed * scale}, MonotoneCubic::Ends::kHold);
}

std::unique_ptr<TurnCount> make_turn_count(const EngineSettings& s, const MotionContext& c) {
  std::unique_ptr<TurnCount> body = body_count(s, c);
  // The legacy path fades by narrowing its sway instead (it never winds round).
  if (s.fade_seconds <= 0 || s.trajectory == Trajectory::kLegacy) return body;
  return std::make_unique<FadedTurns>(std::move(body), s.fade_seconds, c.duration_seconds, beat_synced(s, c));
}

std::unique_ptr<MotionPath> make_motion_path(const EngineSettings& s, const MotionContext& c) {
  const double sign = s.direction == Direction::kClockwise ? -1.0 : 1.0;
  std::unique_ptr<TurnCount> count = make_turn_count(s, c);
  switch (s.trajectory) {
    case Trajectory::kFigureEight: {
      const double e = s.elevation_degrees != 0.0 ? s.elevation_degrees : 30.0;
      return std::make_unique<TurnPath>(TurnPath::Shape::kFigureEight, std::move(count), sign,
                                        setting_over_time(s.elevation_curve, e, kDegree));
    }
    case Trajectory::kLegacy:
      return std::make_unique<LegacyPath>(std::move(count), s.seed, s.fade_seconds, c.duration_seconds);
    case Trajectory::kCircle:
      break;
  }
  return std::make_unique<TurnPath>(TurnPath::Shape::kCircle, std::move(count), sign,
                                    setting_over_time(s.elevation_curve, s.elevation_degrees, kDegree));
}

}  // namespace sy::engine
