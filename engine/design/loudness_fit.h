#pragma once
// Stage 4 of the binaural design: a direction-dependent gain for an even loudness.
#include "engine/binaural_decoder.h"

namespace sy::engine {

// Fits filters.loudness_correction (see BinauralFilters) so the K-weighted loudness of pink
// noise from low_hz up, for a pair of sources `width` radians apart, is the same from every
// direction the basis can produce. The side signal of the uncorrelated case goes through
// filters.side_equaliser, as in the renderer.
// With `mono_only` the target is the fully correlated case alone (fit_side_gain then
// evens out the uncorrelated one); otherwise the sum of both.
void fit_loudness_correction(BinauralFilters& filters, double rate, double low_hz, double width,
                             bool mono_only = false);

// Fits filters.side_gain so that, with the loudness correction fitted to mono, uncorrelated
// stereo is as loud as mono from every direction: per direction sigma^2 = (mid's energy) /
// (side's energy through filters.side_equaliser), K-weighted pink noise from low_hz up,
// fitted in the basis like the correction. Held within [kMinSideGain, kMaxSideGain] in
// every direction (hold_within): the renderer applies it unchecked, and a fit that dipped
// below zero would flip the side's polarity.
void fit_side_gain(BinauralFilters& filters, double rate, double low_hz, double width);

inline constexpr double kMinSideGain = 0.25, kMaxSideGain = 4.0;

// Scales the direction-dependent part of a curve expanded in `basis` (coefficients 1 and up)
// towards its mean (coefficient 0) just enough that it lies within [low, high] on a dense grid
// of directions. Throws when the mean itself lies outside.
void hold_within(AmbisonicBasis basis, std::vector<float>& coefficients, double low, double high);

}  // namespace sy::engine
