#include "engine/testing/click_track.h"

#include <cmath>
#include <numbers>
#include <random>

namespace sy::testing {

ClickTrack click_track(double seconds, double rate, const std::function<double(double)>& bpm_at, unsigned seed) {
  constexpr double kPi = std::numbers::pi;
  ClickTrack track;
  const auto n = static_cast<std::size_t>(seconds * rate);
  track.audio.assign(n, 0.0f);
  std::mt19937 rng(seed);
  std::normal_distribution<float> bed(0.0f, 0.02f);
  for (float& v : track.audio) v = bed(rng);
  double t = 0.5;
  int index = 0;
  while (t < seconds - 0.2) {
    track.beats.push_back(t);
    const bool down = index % 4 == 0;
    const auto start = static_cast<std::size_t>(t * rate);
    if (down) {
      track.downbeats.push_back(t);
      // A note a fifth up each bar, round the twelve.
      const double note = 110.0 * std::pow(2.0, static_cast<double>((index / 4 * 7) % 12) / 12.0);
      const auto bar = static_cast<std::size_t>(4 * 60.0 / bpm_at(t) * rate);
      for (std::size_t i = 0; i < bar && start + i < n; ++i) {
        const double x = static_cast<double>(i) / rate;
        track.audio[start + i] +=
            static_cast<float>(0.15 * (std::sin(2 * kPi * note * x) + 0.5 * std::sin(4 * kPi * note * x)));
      }
    }
    for (std::size_t i = 0; i < static_cast<std::size_t>(0.12 * rate) && start + i < n; ++i) {
      const double x = static_cast<double>(i) / rate;
      const double v = down ? 0.8 * std::sin(2 * kPi * 90 * x) * std::exp(-x / 0.04) + 0.3 * std::exp(-x / 0.002)
                            : 0.4 * std::sin(2 * kPi * 1200 * x) * std::exp(-x / 0.01);
      track.audio[start + i] += static_cast<float>(v);
    }
    t += 60.0 / bpm_at(t);
    ++index;
  }
  return track;
}

}  // namespace sy::testing
