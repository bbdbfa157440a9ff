#pragma once
// The fixed binaural decoder that runs while rendering: ambisonic channels in, two ears out.
//
// A moving source is encoded with per-sample spherical-harmonic gains; the decoder's
// filters never change, so motion is as smooth as the gains (no switching, no zipper).
// The filters come from design_binaural_filters() (engine/binaural_design.h).
#include <cstddef>
#include <vector>

#include "engine/audio_buffer.h"
#include "engine/convolver.h"
#include "engine/crossover.h"  // Biquad
#include "engine/spherical_harmonics.h"

namespace sy::engine {

// Per-channel left-ear filters of the decoder. The head is taken as symmetric, so the
// right ear uses the same filters with odd channels negated: left = S + A, right = S - A,
// where S sums the even channels and A the odd ones (half the convolutions).
struct BinauralFilters {
  AmbisonicBasis basis = AmbisonicBasis::kHorizontal;
  std::vector<std::vector<float>> channel_filters;
  // Delay (frames) of the filters at low frequencies: the centred bass is delayed by this
  // much so both paths meet in phase at the crossover.
  std::size_t low_frequency_delay = 0;
  // Delay (frames) of the filters' main arrival (group delay over 200-800 Hz): what the
  // renderer reports as latency beyond its FIFO, so a click comes out where it went in.
  std::size_t arrival_delay = 0;
  // Gain for the centred bass, sum(L, R) / 2, so it meets the binaural path (each source at
  // half its channel) at the crossover with the same level and phase: together with
  // low_frequency_delay it is the least-squares match of the pair's average response over
  // the circle between crossover / 2 and 2 x crossover. Without it the two paths partly
  // cancelled there (a 7 dB notch at 127 Hz for a 150 Hz crossover).
  float bass_gain = 1.0f;
  // Loudness correction as a function of the pair's centre direction, expanded in the same
  // basis: both sources get the gain sum_k loudness_correction[k] * gains_k(centre). A
  // real head hears a source at the side several dB louder than behind; 8D listeners
  // expect an even level, so the correction flattens the K-weighted loudness of centred
  // pink noise over all directions (side_gain then evens out wide stereo). It is fitted to
  // 3rd order, so it is as smooth as the motion.
  std::vector<float> loudness_correction;
  // Gain on the pair's side signal (L - R) / 2 as a function of the centre direction, in
  // the same basis: sigma = sum_k side_gain[k] * gains_k(centre). At the sides the pair's
  // two responses are alike and their difference, which carries the side, is small; in
  // front it is large: one loudness correction cannot keep mono and wide stereo even at
  // once, so the correction is fitted to mono and sigma makes wide stereo match it. Empty: 1.
  std::vector<float> side_gain;
  // Filter for the side signal (L - R) / 2 of what rotates, applied before encoding so the
  // song's wide parts reach the ears with the same spectrum as its centre (see
  // fit_side_equaliser). Empty: none.
  std::vector<Biquad> side_equaliser;
};

// Runs the fixed decoder, `block` frames per call.
class BinauralDecoder {
 public:
  BinauralDecoder(const BinauralFilters& filters, std::size_t block);
  void reset() noexcept;
  // sh holds ambisonic_channels() channels of block() frames; ears receives left and right.
  void process(ConstAudioView sh, AudioView ears) noexcept;
  std::size_t block() const noexcept { return convolver_.block(); }

 private:
  PartitionedConvolver convolver_;  // channels -> {even sum, odd sum}
  AudioBuffer sums_;
};

}  // namespace sy::engine
