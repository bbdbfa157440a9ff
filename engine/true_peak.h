#pragma once
// True peak (ITU-R BS.1770-4, annex 2): the signal 4x oversampled by a windowed-sinc
// polyphase interpolator. The limiter needs every sample's peak, a meter only the largest.
// Hand-written: libebur128's own true-peak mode runs a scalar double-precision interpolator
// at about 600 instructions a sample, ten times the rest of its meter; this one vectorises.
#include <array>
#include <cstddef>

#include "engine/audio_view.h"

namespace sy::engine {

struct TruePeakInterpolator {
  static constexpr std::size_t kHalfTaps = 16;  // samples of delay
  static constexpr std::size_t kTaps = 2 * kHalfTaps;
  static constexpr std::size_t kOversample = 4;
  // kTaps coefficients per fractional phase 1/4, 2/4, 3/4. Window position j holds
  // x[m - kHalfTaps + 1 + j] for the point m + phase.
  std::array<std::array<float, kTaps>, kOversample - 1> phases{};
  // The largest sum of |coefficients| over the phases (at least 1: the sample itself): no
  // interpolated point exceeds it times the loudest sample of its window.
  float bound = 1.0f;
};
const TruePeakInterpolator& true_peak_interpolator();

// The largest |x[i]| of n samples (0 for none; a NaN is passed over, as std::max does). In
// eight running maxima, so that it vectorises without -ffast-math where one running maximum
// is a chain of dependent instructions; the same value either way.
float largest_magnitude(const float* x, std::size_t n) noexcept;

// The largest true peak of a stereo stream, both channels. Never allocates.
class TruePeakMeter {
 public:
  void add(ConstAudioView audio) noexcept;
  // Linear; includes the last kHalfTaps samples, as if silence followed them.
  float peak() const noexcept;

 private:
  using Interpolator = TruePeakInterpolator;
  static constexpr std::size_t kKeep = Interpolator::kTaps - 1;
  static constexpr std::size_t kChunk = 256;
  // The skip test runs on groups of this many outputs: the finer, the more of a limited
  // master (loud everywhere, rarely at its peak) it passes over.
  static constexpr std::size_t kGroup = 64;
  void add_chunk(const float* left, const float* right, std::size_t frames) noexcept;

  // Per channel: the previous kKeep samples followed by the chunk, so each output's window
  // is contiguous and the FIR vectorises across outputs.
  std::array<std::array<float, kKeep + kChunk>, 2> window_{};
  std::array<float, kChunk> acc_{}, best_{};
  // Per channel: the loudest of the last kGroup samples of the previous chunk.
  std::array<float, 2> loudest_before_{};
  float peak_ = 0.0f;
};

}  // namespace sy::engine
