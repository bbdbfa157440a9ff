#pragma once
// Stage 6 of the binaural design: the song's side signal keeps its level.
#include "engine/binaural_decoder.h"

namespace sy::engine {

// The song's left and right become two sources `width` radians apart. What the two channels
// share (their sum, the mid signal) reaches the ears as the pair's summed response; what
// differs (the side signal, L - R) as the difference of the two sources' responses, which is
// small wherever the two responses are alike: below about 1 kHz, where the head is small
// against the wavelength (a stereo recording's wide, uncorrelated parts came out up to 8 dB
// weaker there than its centre). Fits filters.side_equaliser, biquads for the side signal
// before encoding, so that averaged over all directions the side signal reaches the
// ears with the mid signal's power response: any mix of correlated and uncorrelated
// content then keeps its spectrum. Fitted per third octave between the crossover (where the
// centred bass takes over) and 16 kHz, target limited to -6..+12 dB, as a broadband gain,
// two first-order low shelves and four peaking filters (1.5, 3.5, 8 and 14 kHz). No
// equaliser for a pair narrower than 10 degrees (it has hardly any side signal to keep).
void fit_side_equaliser(BinauralFilters& filters, double rate, double width, double crossover_hz);

}  // namespace sy::engine
