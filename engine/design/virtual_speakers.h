#pragma once
// Stage 1 of the binaural design: the decoder itself.
#include "engine/binaural_design.h"

namespace sy::engine {

// Decodes to virtual loudspeakers (mode matching, with max-rE order weights when asked),
// convolves each loudspeaker with the HRTF of its direction and folds the result into one
// left-ear filter per ambisonic channel, trimmed to start just before the earliest arrival
// and to end once -70 dB of the energy is left (faded out at design.max_length).
BinauralFilters fold_virtual_speakers(HrtfSet& hrtf, const BinauralDecoderDesign& design);

}  // namespace sy::engine
