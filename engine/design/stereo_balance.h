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
// content then keeps its spectrum. Fitted on the power per third octave between the
// crossover (where the centred bass takes over; the target includes what the crossover's
// highpass takes from the side) and 16 kHz, target limited to -6..+24 dB, and an octave
// below the crossover, where the side may not come out louder than the mid; as a broadband
// gain, a second- and a first-order low shelf and four peaking filters (starting at 1.5,
// 3.5, 8 and 14 kHz, each free to move half an octave). No
// equaliser for a pair narrower than 10 degrees (it has hardly any side signal to keep).
void fit_side_equaliser(BinauralFilters& filters, double rate, double width, double crossover_hz);

}  // namespace sy::engine
