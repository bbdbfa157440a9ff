#pragma once
// Stage 2 of the binaural design: diffuse-field equalisation.
#include <cstddef>

#include "engine/binaural_decoder.h"

namespace sy::engine {

// KEMAR is measured at the eardrum of a dummy head, with the ear canal's resonance and the
// loudspeaker's response in every filter; played on headphones the listener's own ear adds
// the resonance again (about +17 dB at 2.5 kHz on the average over a circle). A
// minimum-phase filter that flattens the power response averaged over every direction
// the decoder can produce (a circle or the sphere) removes what all directions share and
// keeps what differs between them: the spatial cues. The average is of what the renderer
// plays: a pair of sources `pair_width` radians apart, each fed half of a mono input (a
// single source for 0). Leaves every filter `max_length` frames long (0: as long as it was).
void equalize_diffuse_field(BinauralFilters& filters, double rate, std::size_t max_length, double pair_width);

}  // namespace sy::engine
