#pragma once
// Designs the binaural decoder's filters from an HRTF set, once at start-up (about 0.3-0.7 s;
// see BinauralFilterCache for sharing a design between renders).
//
// The design runs in stages, each in its own file under engine/design/:
//   1. virtual_speakers: decode to virtual loudspeakers (mode matching, max-rE), convolve
//      each with the HRTF of its direction, fold into one filter per ambisonic channel;
//   2. magnitude_fit: above a crossover, refit to the magnitudes of the responses only
//      (MagLS), optionally keeping the diffuse-field coherence of the ears;
//   3. diffuse_field: take out what every direction shares (the dummy head's ear canal);
//   4. level_match: unit gain where the centred bass hands over, and the arrival delay;
//   5. loudness_fit: a direction-dependent gain that keeps the loudness even, then
//      diffuse_field and level_match once more for the average it weighs;
//   6. stereo_balance: the side signal's equaliser, so wide and centred parts of the song
//      keep the same spectrum;
//   7. level_match again for the bass path: its gain and delay at the crossover.
// A new way to design (another decoder, another equalisation) is a new stage and a field
// here that selects it; the filter cache keys on every field, so nothing else changes.
#include <cstddef>
#include <functional>

#include "engine/binaural_decoder.h"
#include "engine/spherical_harmonics.h"

namespace sy::engine {

class HrtfSet;

// Everything that changes the filters, besides the HRTF set and the sample rate.
struct BinauralDecoderDesign {
  AmbisonicBasis basis = AmbisonicBasis::kHorizontal;
  std::size_t horizontal_speakers = 8;   // virtual loudspeakers of the kHorizontal layout
  std::size_t sphere_speakers = 64;      // of the kSphere layout (mirror-symmetric spiral)
  bool max_re = true;                    // per-order max-rE weights (false: basic decoding)
  double magnitude_fit_hz = 2000.0;      // MagLS above this frequency (0: least squares throughout)
  // > 0: MagLS weighs each direction's error relative to its magnitude (in effect decibels),
  // with this share of the bin's mean power as the floor; 0: plain magnitudes.
  double magnitude_fit_floor = 0.0;
  bool diffuse_coherence = true;         // with MagLS: keep the ears' diffuse-field covariance
  // With MagLS on the sphere: the peak elevation of the tilted circle the source travels
  // (0: none), whose directions the fit favours with orbit_weight of its total weight.
  double orbit_elevation_degrees = 0.0;
  double orbit_weight = 0.0;
  double level_match_low_hz = 200.0;     // the decoder is scaled to unit gain in this band,
  double level_match_high_hz = 800.0;    // where the centred bass hands over
  std::size_t max_length = 512;          // frames; longer filters are faded out to fit
  bool diffuse_field_eq = true;          // flatten the average response over all directions
  bool equal_loudness = true;            // fit the direction-dependent loudness correction
  bool side_balance = true;              // fit the side signal's equaliser
  double pair_width_degrees = 60.0;      // the two sources sit at centre +- width / 2
  double crossover_hz = 0.0;             // where the centred bass takes over (0: none)

  bool operator==(const BinauralDecoderDesign&) const = default;
};

// What the renderer asks of a sphere design (measured, docs/ENGINE.md): MagLS errors in
// decibels down to 10 dB below a bin's mean power, and 80 % of the fit's weight on the
// source's tilted circle when it keeps to one.
inline constexpr double kSphereMagnitudeFitFloor = 0.1;
inline constexpr double kSphereOrbitWeight = 0.8;

// Mixes every field of the design (a new field that is left out fails to compile).
std::size_t hash_value(const BinauralDecoderDesign& design) noexcept;

BinauralFilters design_binaural_filters(HrtfSet& hrtf, const BinauralDecoderDesign& design);

}  // namespace sy::engine
