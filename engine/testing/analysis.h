#pragma once
// Test-only signal generators and measurements shared by the engine's acceptance tests
// and the pipeline's integration tests. Not linked into the product.
#include <cstddef>
#include <vector>

#include "engine/processor.h"

namespace sy::testing {

struct Stereo {
  std::vector<float> left, right;
};

// Pink noise (-3 dB per octave, Voss-McCartney with 16 rows) at about -20 dBFS RMS.
std::vector<float> pink_noise(std::size_t frames, unsigned seed);
std::vector<float> sine(std::size_t frames, double hz, double sample_rate, float amplitude);
// White noise, uniform in [-amplitude, amplitude]; the same seed gives the same samples.
std::vector<float> white_noise(std::size_t frames, unsigned seed, float amplitude);

// Runs `processor` over the whole signal in blocks of `block` frames (the last one may be
// shorter), feeds latency() frames of silence and drops the first latency() frames, so
// the result lines up with the input and has its length.
Stereo render(engine::StereoProcessor& processor, const std::vector<float>& left, const std::vector<float>& right,
              std::size_t block);

// libebur128's true peak of both channels in dBTP (-inf for silence): a meter the engine's
// own detector (the limiter's, LoudnessMeter's) is held against.
double libebur128_true_peak_dbtp(const Stereo& s, int sample_rate);

// libebur128's readings of a stereo signal (its histogram mode, as LoudnessMeter bins):
// the reference LoudnessMeter is held against. `momentary` holds one reading every
// `momentary_hop` frames.
struct Libebur128Loudness {
  double integrated_lufs = 0;
  double loudness_range_lu = 0;
  std::vector<double> momentary, short_term;
};
Libebur128Loudness libebur128_loudness(const Stereo& s, int sample_rate, std::size_t momentary_hop);

// Level difference left over right in dB, one value per hop, from RMS over `window`.
std::vector<double> ild_series_db(const Stereo& s, std::size_t window, std::size_t hop);
// Interaural time lag in ms (positive: the right ear lags, the source is on the left), from
// the cross-correlation peak of both ears low-passed below `lowpass_hz`, lags up to
// +-max_lag_ms, one value per hop.
std::vector<double> itd_series_ms(const Stereo& s, double sample_rate, std::size_t window, std::size_t hop,
                                  double lowpass_hz = 1500.0, double max_lag_ms = 1.0);
// The period (seconds) of the strongest oscillation of `series` (sampled every
// `hop_seconds`) between min and max period, by a fine search of its spectrum.
double dominant_period_seconds(const std::vector<double>& series, double hop_seconds, double min_period,
                               double max_period);
// Times (in series samples, fractional) where the series crosses zero.
std::vector<double> zero_crossings(const std::vector<double>& series);
// The series averaged over `half_width` values either side of each (fewer at its ends).
std::vector<double> moving_average(const std::vector<double>& series, std::size_t half_width);

// Energy outside tone_hz +- guard_hz relative to the energy inside it, in dB, over a
// Blackman-Harris-windowed spectrum of the whole signal.
double off_tone_db(const std::vector<float>& x, double sample_rate, double tone_hz, double guard_hz);
// Third-octave band levels (dB) between low_hz and high_hz of x[begin, begin+length).
std::vector<double> band_levels_db(const std::vector<float>& x, std::size_t begin, std::size_t length,
                                   double sample_rate, double low_hz, double high_hz);

// Short-term loudness (LUFS, EBU R128) every `hop` frames.
std::vector<double> short_term_loudness(const Stereo& s, int sample_rate, std::size_t hop);

// 4th-order Butterworth low-pass.
std::vector<float> lowpass(const std::vector<float>& x, double hz, double sample_rate);

// Pearson correlation of two equally long signals.
double correlation(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace sy::testing
