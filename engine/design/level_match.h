#pragma once
// Stages 3 and 5 of the binaural design: level and delay where the centred bass hands over.
#include "engine/binaural_decoder.h"

namespace sy::engine {

// Scales the filters to unit gain between low_hz and high_hz (on the omni channel) and sets
// low_frequency_delay and arrival_delay to their group delay there.
void match_level(BinauralFilters& filters, double rate, double low_hz, double high_hz);

// Matches the centred bass to the rotating pair (sources `width` radians apart, loudness
// correction applied) at the crossover: scales the filters to unit gain just above it and
// picks the bass delay that lines both up where both bands sound.
void match_bass_path(BinauralFilters& filters, double rate, double crossover_hz, double width);

}  // namespace sy::engine
