#pragma once
// 4th-order Linkwitz-Riley band split: keeps the bass centred while the rest rotates.
#include <array>
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

// The renderer's input stage: the mid (L + R) / 2 split into its bass and the band above, the
// side (L - R) / 2 high-passed the same way and run through the side equaliser, and the
// band above the bass returned as left and right. Only the mid's bass is kept (the centred
// bass is the mid's). Every section runs in double precision, four at a time in one AVX
// register (two SSE2 registers without AVX): the mid's two lowpass and two highpass
// sections side by side, the second of each one frame behind the first; the side's cascade
// cut into four quarters that run side by side, each a frame behind the one before (within
// a block, so no latency). The arithmetic is that of the sections one after another,
// reordered only.
class MidSideCrossover {
 public:
  static constexpr std::size_t kLanes = 4;
  static constexpr std::size_t kMaxSideSections = 12;
  // cutoff_hz 0: no bass split (everything is "above"). side_equaliser may be empty; at
  // most kMaxSideSections - 2 sections.
  void prepare(double sample_rate, double cutoff_hz, std::span<const Biquad> side_equaliser);
  void reset() noexcept;
  // in: left and right; low: the mid's bass (one channel, ignored without a split); high:
  // left and right above it. All views hold the same number of frames; in may alias high.
  void process(ConstAudioView in, std::span<float> low, AudioView high) noexcept;

  struct Section {
    double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
  };
  // Sections [depth][lane] and their state; lane l runs sections l * depth ... l * depth +
  // depth - 1 of its cascade.
  template <std::size_t max_depth>
  struct Lanes {
    std::array<std::array<Section, kLanes>, max_depth> sections{};
    std::array<std::array<double, kLanes>, max_depth> z1{}, z2{};
  };

 private:
  bool split_ = false;
  // Mid: lanes 0, 1 the lowpass' two sections, lanes 2, 3 the highpass'.
  Lanes<1> mid_;
  // Side: the high-pass (with a split) and the equaliser, identity sections padding the
  // count to a multiple of four.
  std::size_t depth_ = 0;
  Lanes<kMaxSideSections / kLanes> side_;
};

}  // namespace sy::engine
