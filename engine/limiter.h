#pragma once
// Look-ahead true-peak limiter, the last stage before the encoder.
// Hand-written: no Debian package offers a true-peak look-ahead limiter as a C/C++ API.
#include <array>
#include <cstddef>
#include <vector>

#include "engine/loudness.h"  // declares make_true_peak_limiter()
#include "engine/processor.h"
#include "engine/true_peak.h"

namespace sy::engine {

// Gain computer, in order:
//   1. true-peak detection of both channels, 4x oversampled with a windowed-sinc
//      polyphase interpolator (kHalfTaps samples of delay), linked across channels;
//   2. the gain each sample needs to stay under the ceiling (minus a safety margin);
//   3. sliding-window minimum over attack + 2 x guard samples (hold);
//   4. exponential release (instant attack at this point);
//   5. a moving average over the attack window, so gain falls as a linear ramp that
//      ends `kGuard` samples before the peak and holds until `kGuard` samples after it.
// The audio is delayed by exactly latency() = kHalfTaps + attack - 1 + kGuard frames.
class TruePeakLimiter final : public StereoProcessor {
 public:
  static constexpr std::size_t kHalfTaps = TruePeakInterpolator::kHalfTaps;  // interpolator half length
  static constexpr std::size_t kTaps = TruePeakInterpolator::kTaps;
  static constexpr std::size_t kOversample = TruePeakInterpolator::kOversample;
  static constexpr std::size_t kGuard = kHalfTaps;     // samples of held gain either side of a peak
  static constexpr double kAttackSeconds = 0.003;
  static constexpr double kReleaseSeconds = 0.1;
  // libebur128 reads up to ~0.2 dB above this detector on full-band noise (its short
  // interpolator ripples near Nyquist), and other meters differ too, so the gain aims this
  // much under the ceiling.
  static constexpr double kMarginDb = 0.3;

  explicit TruePeakLimiter(double ceiling_dbtp);

  void prepare(double sample_rate, std::size_t max_block_frames) override;
  void reset() noexcept override;
  void process(ConstAudioView in, AudioView out) noexcept override;
  std::size_t latency() const noexcept override { return latency_; }

  // The smallest gain applied since the last reset (1 when nothing was limited).
  float min_gain() const noexcept { return min_gain_; }

 private:
  void process_chunk(ConstAudioView in, AudioView out) noexcept;
  // True peak (linked across channels) of each of in.num_frames() <= kChunk new samples into
  // peak_.
  void detect_block(ConstAudioView in) noexcept;
  float gain_for(float peak) const noexcept;
  inline float hold(float gain) noexcept;  // defined (and used) in limiter.cc only

  double ceiling_dbtp_;
  float threshold_ = 1.0f;
  std::size_t attack_ = 1;
  std::size_t hold_length_ = 1;
  std::size_t latency_ = 0;
  double release_coef_ = 0;

  // Interpolator: kTaps coefficients per fractional phase 1/4, 2/4, 3/4.
  std::array<std::array<float, kTaps>, kOversample - 1> phases_{};
  // The largest sum of |coefficients| over the phases (at least 1: the sample itself).
  float interpolation_bound_ = 1.0f;
  // The detector runs over chunks of this many frames: per channel, the previous kTaps - 1
  // samples followed by the chunk, so every output's window is contiguous and the FIR
  // vectorises across outputs.
  static constexpr std::size_t kChunk = 256;
  std::array<std::array<float, kTaps - 1 + kChunk>, 2> window_{};
  std::array<float, kChunk> acc_{};
  std::array<float, kChunk> peak_{};

  // Sliding minimum: a monotonic queue of (time, gain) in a ring buffer.
  std::vector<std::size_t> hold_time_;
  std::vector<float> hold_gain_;
  std::size_t hold_head_ = 0, hold_count_ = 0, time_ = 0;

  double release_state_ = 1.0;

  std::vector<double> box_;
  std::size_t box_pos_ = 0;
  double box_sum_ = 0;

  std::array<std::vector<float>, 2> delay_;
  std::size_t delay_pos_ = 0;

  float min_gain_ = 1.0f;
};

}  // namespace sy::engine
