#pragma once
// Frequency responses the design stages evaluate at chosen frequencies.
#include <complex>
#include <span>

#include "engine/crossover.h"  // Biquad

namespace sy::engine {

// The response of an FIR filter at `omega` radians per sample. Hand-written (a direct sum):
// the fits need a few dozen arbitrary frequencies, not FFTW's evenly spaced bins, and over
// at most 512 taps the sum is exact and takes microseconds.
std::complex<double> response_at(std::span<const float> filter, double omega);

// Power gain of a cascade of second-order sections at `omega` radians per sample.
double power_gain(std::span<const Biquad> sections, double omega);

// Magnitude of the ITU-R BS.1770 pre-filter (the high shelf of K-weighting) at 48 kHz.
// libebur128 applies the same filter but does not expose its response.
double k_weighting_magnitude(double hz);

}  // namespace sy::engine
