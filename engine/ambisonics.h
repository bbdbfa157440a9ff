#pragma once
// Ambisonic encoding and a fixed binaural decoder built from an HRTF set at start-up.
//
// A moving source is encoded with per-sample spherical-harmonic gains; the decoder's
// filters never change, so motion is as smooth as the gains (no switching, no zipper).
#include <cstddef>
#include <memory>
#include <vector>

#include "engine/audio_buffer.h"
#include "engine/convolver.h"

namespace sy::engine {

class HrtfSet;

// kHorizontal: 3rd-order circular harmonics, 7 channels, for paths in the horizontal plane.
// kSphere: full 3rd-order spherical harmonics, 16 channels (ACN), for paths that rise.
enum class AmbisonicBasis { kHorizontal, kSphere };

inline constexpr int kAmbisonicOrder = 3;
std::size_t ambisonic_channels(AmbisonicBasis basis) noexcept;
// Order (0..3) of a channel, for per-order weights.
int ambisonic_channel_order(AmbisonicBasis basis, std::size_t channel) noexcept;
// True when the channel changes sign when left and right swap (y -> -y).
bool ambisonic_channel_is_odd(AmbisonicBasis basis, std::size_t channel) noexcept;

// Orthonormal gains (mean square 1 over the circle or the sphere) for a direction in
// radians: azimuth counter-clockwise from the front, elevation up.
void ambisonic_gains(AmbisonicBasis basis, double azimuth, double elevation, float* gains) noexcept;

struct BinauralDecoderDesign {
  AmbisonicBasis basis = AmbisonicBasis::kHorizontal;
  std::size_t horizontal_speakers = 8;   // virtual loudspeakers of the kHorizontal layout
  std::size_t sphere_speakers = 64;      // of the kSphere layout (mirror-symmetric spiral)
  bool max_re = true;                    // per-order max-rE weights (false: basic decoding)
  double level_match_low_hz = 200.0;     // the decoder is scaled to unit gain in this band,
  double level_match_high_hz = 800.0;    // where the centred bass hands over
  std::size_t max_length = 512;          // frames; longer filters are faded out to fit
  bool diffuse_field_eq = true;          // flatten the average response over all directions
  bool equal_loudness = true;            // fit the direction-dependent loudness correction
  double pair_width_degrees = 60.0;      // the two sources sit at centre +- width / 2
  double crossover_hz = 0.0;             // where the centred bass takes over (0: none)
};

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
  // expect an even level, so the correction flattens the K-weighted loudness of pink noise
  // (the sum of the fully correlated and the uncorrelated case,
  // so mono and wide stereo both stay within about 1 LU) over all directions. It is
  // fitted to 3rd order, so it is as smooth as the motion.
  std::vector<float> loudness_correction;
};

// Decodes to virtual loudspeakers (mode matching), convolves each loudspeaker with the
// HRTF of its direction and folds the result into one filter per ambisonic channel.
BinauralFilters design_binaural_filters(HrtfSet& hrtf, const BinauralDecoderDesign& design);

// Runs the fixed decoder: ambisonic channels in, two ears out, `block` frames per call.
class BinauralDecoder {
 public:
  BinauralDecoder(const BinauralFilters& filters, std::size_t block);
  void reset() noexcept;
  // sh holds ambisonic_channels() channels of block() frames; ears receives left and right.
  void process(ConstAudioView sh, AudioView ears) noexcept;
  std::size_t block() const noexcept { return convolver_.block(); }

 private:
  PartitionedConvolver convolver_;  // channels -> {even sum, odd sum}
  AudioBuffer sums_;  // the even and odd channels' sums
};

}  // namespace sy::engine
