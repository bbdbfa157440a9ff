#pragma once
// Splits a stereo signal into what its two channels share (in most mixes the voice, the
// kick, the bass: sources panned to the middle) and the rest, so the shared part can stay
// in front while the rest circles. No model: the classic primary/ambient extraction of
// upmixers (C. Avendano and J.-M. Jot, "A frequency-domain approach to multichannel upmix",
// J. Audio Eng. Soc. 52(7/8), 2004): in each bin of a short-time Fourier transform the
// inter-channel similarity 2|<L R*>| / (<|L|^2> + <|R|^2>) is 1 where both channels carry
// the same signal at the same level and falls towards 0 for uncorrelated or one-sided
// content; a soft mask of it picks the shared part out of the mid (L + R) / 2.
//
// shared + side rebuilds the input exactly (delayed by latency()): the side is the delayed
// input minus the shared part, computed in the time domain, so no energy is lost or doubled
// whatever the mask does.
#include <cstddef>
#include <memory>

#include "engine/audio_view.h"

namespace sy::engine {

class CentreSplit {
 public:
  // One transform per hop; the renderer's internal block.
  static constexpr std::size_t kHop = 512;
  // Frame length: 43 ms at 48 kHz, bins 23 Hz apart (fine enough to part a voice from the
  // instruments around it, short enough not to smear its onsets).
  static constexpr std::size_t kFrame = 2048;

  CentreSplit();
  ~CentreSplit();
  CentreSplit(const CentreSplit&) = delete;
  CentreSplit& operator=(const CentreSplit&) = delete;

  // Allocates and plans the transforms (may take the FFTW planner lock).
  void prepare(double sample_rate);
  void reset() noexcept;
  // `in`: two channels of exactly kHop frames. Writes kHop frames of the shared part (mono)
  // to `shared` and of the rest to `side` (two channels). `side` may alias `in`; `shared`
  // must not.
  void process(ConstAudioView in, float* shared, AudioView side) noexcept;
  // Frames between a sample going in and its parts coming out.
  std::size_t latency() const noexcept { return kFrame - kHop; }

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sy::engine
