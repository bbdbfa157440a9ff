#pragma once
// 4th-order Linkwitz-Riley band split: keeps the bass centred while the rest rotates.
#include <cstddef>
#include <span>

#include "engine/audio_view.h"

namespace sy::engine {

// One second-order section in transposed direct form II, double state so a low cutoff
// at 44.1 kHz keeps its precision.
struct Biquad {
  double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
  double z1 = 0, z2 = 0;

  double tick(double x) noexcept {
    const double y = b0 * x + z1;
    z1 = b1 * x - a1 * y + z2;
    z2 = b2 * x - a2 * y;
    return y;
  }
  void reset() noexcept { z1 = z2 = 0; }
};

// Splits one channel into low and high bands; low + high is an allpass (flat magnitude),
// each band is -6 dB at the cutoff and falls at 24 dB/octave.
class LinkwitzRiley4 {
 public:
  void prepare(double sample_rate, double cutoff_hz);
  void reset() noexcept;
  // in, low and high hold the same number of samples; in may alias low or high.
  void process(std::span<const float> in, std::span<float> low, std::span<float> high) noexcept;

 private:
  Biquad low_[2];
  Biquad high_[2];
};

// The same split for a stereo pair in lockstep: left and right share each double-precision
// operation (one SIMD register holds both), so the pair costs about what one channel does.
// Output is bit-identical to two LinkwitzRiley4.
class StereoLinkwitzRiley4 {
 public:
  void prepare(double sample_rate, double cutoff_hz);
  void reset() noexcept;
  // in, low and high hold two channels of the same number of frames; in may alias low or
  // high.
  void process(ConstAudioView in, AudioView low, AudioView high) noexcept;

 private:
  // Sections 0, 1: lowpass cascade; 2, 3: highpass cascade.
  struct Section {
    double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
  };
  Section sections_[4];
  double z1_[4][2] = {};
  double z2_[4][2] = {};
};

}  // namespace sy::engine
