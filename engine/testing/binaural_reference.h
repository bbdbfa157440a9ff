#pragma once
// Test-only yardstick for the binaural decoder: what the measured head itself would do.
//
// A static source is rendered by direct convolution with the KEMAR response of its exact
// direction (libmysofa interpolates between the measured directions), and the renderer's
// output for a source passing the same direction is measured the same way: each ear's
// level per third octave (output over input, so the noise's own spectrum cancels), the
// interaural level difference per band and the interaural time difference below 1.5 kHz.
// Not linked into the product.
#include <cstddef>
#include <string>
#include <vector>

#include "engine/hrtf.h"
#include "engine/spherical_harmonics.h"
#include "engine/testing/analysis.h"

namespace sy::testing {

// Third-octave centres the cues are measured in: 250 Hz .. 16 kHz (19 bands).
std::vector<double> cue_band_centres();

// One source direction seen at the ears.
struct EarCues {
  double azimuth_deg = 0, elevation_deg = 0;
  std::vector<double> left_db, right_db;  // each ear: output over input, per band (dB)
  double itd_ms = 0;                      // positive: the right ear lags (source on the left)
};

// Measures a stretch of two-ear output against the mono input that made it. `ears` and
// `input` are aligned (latency already removed); the stretch is [begin, begin + length).
EarCues measure_cues(const Stereo& ears, const std::vector<float>& input, std::size_t begin, std::size_t length,
                     double sample_rate);

// The measured head, with the same diffuse-field equalisation the decoder aims for: each
// ear's level is taken relative to the power average of the set over the directions the
// basis can produce (the circle, or the sphere), so what every direction shares (the dummy
// head's ear canal) is gone and only the cues remain.
class HrtfReference {
 public:
  HrtfReference(const std::string& sofa_path, double sample_rate, engine::AmbisonicBasis basis);

  // Direct convolution of `input` with the response of (azimuth, elevation), for the
  // stretch [begin, begin + length) (earlier input fills the filter's memory).
  Stereo render(const std::vector<float>& input, std::size_t begin, std::size_t length, double azimuth_deg,
                double elevation_deg);
  // render() and measure_cues(), diffuse-field equalised.
  EarCues cues(const std::vector<float>& input, std::size_t begin, std::size_t length, double azimuth_deg,
               double elevation_deg);
  // Diffuse-field level per band (dB), the average the cues are taken relative to.
  const std::vector<double>& diffuse_field_db() const noexcept { return diffuse_field_db_; }

 private:
  engine::HrtfSet hrtf_;
  std::vector<double> diffuse_field_db_;
};

// How far a renderer's cues are from the reference's, over a set of directions.
struct CueComparison {
  // Per direction, in the order given.
  std::vector<double> ild_error_db;       // RMS over the bands from 2 to 16 kHz
  std::vector<double> spectral_error_db;  // RMS over both ears and all bands, level removed
  std::vector<double> itd_error_ms;       // renderer minus reference
  // Over all directions (RMS).
  double ild_rms_db = 0, spectral_rms_db = 0, itd_rms_ms = 0;
};

// "Level removed": the renderer fits a deliberate direction-dependent gain (the loudness
// correction) and its own overall level, so each direction's mean difference over both ears
// and all bands is taken out before the spectral error is computed; ILD and ITD are
// untouched by it.
CueComparison compare_cues(const std::vector<EarCues>& rendered, const std::vector<EarCues>& reference);

// What tells front from back: for a front direction and its mirror image behind (same
// lateral angle), each ear's level difference front minus back per band, level removed as
// above. Returns the RMS over both ears and the bands from 4 to 12 kHz of the renderer's
// difference minus the reference's.
double front_back_error_db(const EarCues& rendered_front, const EarCues& rendered_back,
                           const EarCues& reference_front, const EarCues& reference_back);

}  // namespace sy::testing
