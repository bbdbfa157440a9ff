#pragma once
// Stage 4 of the binaural design: a direction-dependent gain for an even loudness.
#include "engine/binaural_decoder.h"

namespace sy::engine {

// Fits filters.loudness_correction (see BinauralFilters) so the K-weighted loudness of pink
// noise from low_hz up, for a pair of sources `width` radians apart, is the same from every
// direction the basis can produce. The side signal of the uncorrelated case goes through
// filters.side_equaliser, as in the renderer.
void fit_loudness_correction(BinauralFilters& filters, double rate, double low_hz, double width);

}  // namespace sy::engine
