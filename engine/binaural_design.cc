#include "engine/binaural_design.h"

#include <numbers>

#include "engine/design/diffuse_field.h"
#include "engine/design/level_match.h"
#include "engine/design/magnitude_fit.h"
#include "engine/design/stereo_balance.h"
#include "engine/design/loudness_fit.h"
#include "engine/design/virtual_speakers.h"
#include "engine/hrtf.h"

namespace sy::engine {

namespace {
template <class T>
void mix(std::size_t& seed, const T& value) noexcept {
  seed ^= std::hash<T>{}(value) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
}
}  // namespace

std::size_t hash_value(const BinauralDecoderDesign& design) noexcept {
  // A structured binding names every member: adding a field to the design breaks this line
  // until the field is hashed too.
  const auto& [basis, horizontal_speakers, sphere_speakers, max_re, magnitude_fit_hz, magnitude_fit_floor,
               diffuse_coherence, orbit_elevation_degrees, orbit_weight, level_match_low_hz, level_match_high_hz,
               max_length, diffuse_field_eq, equal_loudness, side_balance, pair_width_degrees, crossover_hz] = design;
  std::size_t seed = 0;
  mix(seed, static_cast<int>(basis));
  mix(seed, horizontal_speakers);
  mix(seed, sphere_speakers);
  mix(seed, max_re);
  mix(seed, magnitude_fit_hz);
  mix(seed, magnitude_fit_floor);
  mix(seed, diffuse_coherence);
  mix(seed, orbit_elevation_degrees);
  mix(seed, orbit_weight);
  mix(seed, level_match_low_hz);
  mix(seed, level_match_high_hz);
  mix(seed, max_length);
  mix(seed, diffuse_field_eq);
  mix(seed, equal_loudness);
  mix(seed, side_balance);
  mix(seed, pair_width_degrees);
  mix(seed, crossover_hz);
  return seed;
}

BinauralFilters design_binaural_filters(HrtfSet& hrtf, const BinauralDecoderDesign& design) {
  const double rate = hrtf.sample_rate();
  const double width = design.pair_width_degrees * std::numbers::pi / 180.0;
  BinauralFilters out = fold_virtual_speakers(hrtf, design);
  if (design.magnitude_fit_hz > 0) fit_high_frequency_magnitudes(out, hrtf, design);
  if (design.diffuse_field_eq) equalize_diffuse_field(out, rate, design.max_length, width);
  match_level(out, rate, design.level_match_low_hz, design.level_match_high_hz);
  out.loudness_correction.assign(out.channel_filters.size(), 0.0f);
  out.loudness_correction[0] = 1.0f;
  if (design.equal_loudness) fit_loudness_correction(out, rate, design.level_match_low_hz, width);
  if (design.equal_loudness && design.diffuse_field_eq) {
    // The loudness correction weighs the directions (the sides come down, and they are the
    // brighter ones at the near ear): equalise again for the average the renderer plays.
    equalize_diffuse_field(out, rate, design.max_length, width);
    match_level(out, rate, design.level_match_low_hz, design.level_match_high_hz);
  }
  if (design.side_balance) {
    fit_side_equaliser(out, rate, width, design.crossover_hz);
    if (design.equal_loudness) {
      // One gain per direction cannot keep mono and wide stereo even at once (at the sides
      // the pair's difference, which carries the side, is small): the loudness correction
      // is fitted again to mono alone and the side gets its own direction-dependent gain for
      // the uncorrelated case; equalise for the new weighting, fit the side equaliser to the
      // result as the side gain weighs the directions, and the side gain to that equaliser.
      fit_loudness_correction(out, rate, design.level_match_low_hz, width, /*mono_only=*/true);
      fit_side_gain(out, rate, design.level_match_low_hz, width);
      if (design.diffuse_field_eq) {
        equalize_diffuse_field(out, rate, design.max_length, width);
        match_level(out, rate, design.level_match_low_hz, design.level_match_high_hz);
      }
      for (int pass = 0; pass < 3; ++pass) {
        fit_side_equaliser(out, rate, width, design.crossover_hz);
        fit_side_gain(out, rate, design.level_match_low_hz, width);
      }
    }
  }
  if (design.crossover_hz > 0) match_bass_path(out, rate, design.crossover_hz, width);
  return out;
}

}  // namespace sy::engine
