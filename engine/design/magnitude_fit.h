#pragma once
// Stage 2 of the binaural design: above a crossover, fit the magnitudes of the HRTFs only.
#include "engine/binaural_design.h"

namespace sy::engine {

// Magnitude least squares (MagLS; Schörkhuber, Zaunschirm and Höldrich, DAGA 2018). A 3rd-order
// decode cannot follow the head's responses above about 2 kHz: their phase turns too fast
// with direction (the interaural delay is many wavelengths there), so a least-squares fit
// of the complex responses spends the few coefficients on phase, and the magnitudes, which
// is what the ear uses up there (level differences, pinna notches), come out smeared and too
// low. Above design.magnitude_fit_hz the filters are refitted bin by bin to the magnitudes of
// the responses of a dense grid of directions, each direction's phase carried on from the
// fit of the bin below, so the phase stays smooth across frequency and direction.
// With design.diffuse_coherence the fit then also keeps the set's diffuse-field covariance
// (Zaunschirm, Schörkhuber and Höldrich, JASA 2018): the even (left+right) and odd
// (left-right) channels are scaled per bin so the average power of the sum and of the
// difference of the ears over all directions is the measured head's, which keeps the
// interaural coherence of a diffuse sound. On the sphere, 16 channels cannot follow every
// direction: with design.magnitude_fit_floor each direction's error counts relative to its
// own magnitude (a pinna notch as much as a peak, as the ear hears them), and with
// design.orbit_weight the tilted circle the source travels (both ways round, sampled between
// 5-degree marks) gets that share of the fit's weight, the even grid the rest; the diffuse
// field stays measured on the even grid. Leaves the filters design.max_length frames long.
void fit_high_frequency_magnitudes(BinauralFilters& filters, HrtfSet& hrtf, const BinauralDecoderDesign& design);

}  // namespace sy::engine
