#pragma once
// Loudness (EBU R128: integrated, momentary, short-term, loudness range) and true peak of a
// stereo stream, and the final look-ahead true-peak limiter.
#include <cstddef>
#include <memory>

#include "engine/processor.h"

namespace sy::engine {

class LoudnessMeter {
 public:
  // The true peak and the loudness range (EBU Tech 3342) cost extra work: asked for here.
  // Rates from 16 Hz to 2.8224 MHz (else std::invalid_argument). The momentary and
  // short-term readings move in 100-ms steps (BS.1770's gating blocks); one taken between two
  // steps is that of the last step, unless `readings_between_steps` keeps the last 3 s of
  // frames (1.15 MB at 48 kHz) to read up to the frame, as libebur128 does.
  LoudnessMeter(int sample_rate, bool measure_true_peak = false, bool measure_range = false,
                bool readings_between_steps = false);
  ~LoudnessMeter();
  LoudnessMeter(const LoudnessMeter&) = delete;
  LoudnessMeter& operator=(const LoudnessMeter&) = delete;
  // Two channels (else std::invalid_argument), any number of frames; never allocates
  // (engine_allocation_tests).
  void add(ConstAudioView audio);
  double integrated_lufs() const;     // -inf for silence
  double true_peak_dbtp() const;      // max over both channels; requires measure_true_peak
  double short_term_lufs() const;     // last 3 s (to the last 100-ms step, see above)
  double momentary_lufs() const;      // last 400 ms (likewise)
  double loudness_range_lu() const;   // requires measure_range; 0 for silence

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Look-ahead limiter whose output never exceeds `ceiling_dbtp` in true peak (4x
// oversampled detection). Reports its look-ahead as latency().
std::unique_ptr<StereoProcessor> make_true_peak_limiter(double ceiling_dbtp);

}  // namespace sy::engine
