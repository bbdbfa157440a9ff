#pragma once
// Whole-filter spectra for the design stages that work bin by bin (FFTW, start-up only).
#include <complex>
#include <cstddef>
#include <span>
#include <vector>

namespace sy::engine {

// The n / 2 + 1 bins of a real signal zero-padded (or cut) to n frames.
std::vector<std::complex<double>> real_spectrum(std::span<const float> signal, std::size_t n);

// The n frames whose real_spectrum() is `bins` (n / 2 + 1 of them).
std::vector<float> real_signal(const std::vector<std::complex<double>>& bins, std::size_t n);

}  // namespace sy::engine
