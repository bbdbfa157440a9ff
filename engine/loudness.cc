#include "engine/loudness.h"

#include <ebur128.h>

#include "engine/true_peak.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace sy::engine {

namespace {
constexpr unsigned kChannels = 2;
constexpr std::size_t kChunkFrames = 4096;

double to_lufs(int status, double value) {
  if (status != EBUR128_SUCCESS) return -std::numeric_limits<double>::infinity();
  return value;  // libebur128 already reports -HUGE_VAL for silence
}
}  // namespace

struct LoudnessMeter::Impl {
  ebur128_state* state = nullptr;
  bool true_peak = false;
  bool range = false;
  TruePeakMeter peak;  // libebur128's true-peak mode costs ten times the rest of the meter
  std::vector<float> interleaved = std::vector<float>(kChunkFrames * kChannels);
};

LoudnessMeter::LoudnessMeter(int sample_rate, bool measure_true_peak, bool measure_range)
    : impl_(std::make_unique<Impl>()) {
  if (sample_rate <= 0) throw std::invalid_argument("loudness meter: sample rate must be positive");
  // The histogram keeps the gating blocks' energies in a fixed table of 0.1 LU bins, where
  // the default mode allocates a list entry per 100 ms block for the whole song (memory
  // that grows with its length, and allocation in the metering loop). On 14 real songs the
  // integrated loudness moves by at most 0.004 LU.
  int mode = EBUR128_MODE_I | EBUR128_MODE_S | EBUR128_MODE_M | EBUR128_MODE_HISTOGRAM;
  if (measure_range) mode |= EBUR128_MODE_LRA;
  impl_->state = ebur128_init(kChannels, static_cast<unsigned long>(sample_rate), mode);
  if (impl_->state == nullptr) {
    throw std::runtime_error("loudness meter: libebur128 could not start at " +
                             std::to_string(sample_rate) + " Hz");
  }
  impl_->true_peak = measure_true_peak;
  impl_->range = measure_range;
}

LoudnessMeter::~LoudnessMeter() {
  if (impl_ && impl_->state != nullptr) ebur128_destroy(&impl_->state);
}

void LoudnessMeter::add(ConstAudioView audio) {
  // libebur128 takes interleaved frames only; interleave through a fixed chunk buffer.
  float* buf = impl_->interleaved.data();
  const std::size_t frames = audio.num_frames();
  const float* left = audio.channel(0);
  const float* right = audio.channel(1);
  for (std::size_t start = 0; start < frames; start += kChunkFrames) {
    const std::size_t n = std::min(kChunkFrames, frames - start);
    for (std::size_t i = 0; i < n; ++i) {
      buf[2 * i] = left[start + i];
      buf[2 * i + 1] = right[start + i];
    }
    if (ebur128_add_frames_float(impl_->state, buf, n) != EBUR128_SUCCESS) {
      throw std::runtime_error("loudness meter: libebur128 rejected the samples");
    }
  }
  if (impl_->true_peak) impl_->peak.add(audio);
}

double LoudnessMeter::integrated_lufs() const {
  double v = 0;
  const int status = ebur128_loudness_global(impl_->state, &v);
  return to_lufs(status, v);
}

double LoudnessMeter::short_term_lufs() const {
  double v = 0;
  const int status = ebur128_loudness_shortterm(impl_->state, &v);
  return to_lufs(status, v);
}

double LoudnessMeter::momentary_lufs() const {
  double v = 0;
  const int status = ebur128_loudness_momentary(impl_->state, &v);
  return to_lufs(status, v);
}

double LoudnessMeter::loudness_range_lu() const {
  if (!impl_->range) throw std::logic_error("loudness meter: the range was not requested at construction");
  double v = 0;
  if (ebur128_loudness_range(impl_->state, &v) != EBUR128_SUCCESS) return 0;
  return std::isfinite(v) ? v : 0;
}

double LoudnessMeter::true_peak_dbtp() const {
  if (!impl_->true_peak) {
    throw std::logic_error("loudness meter: true peak was not requested at construction");
  }
  const double peak = impl_->peak.peak();
  if (peak <= 0) return -std::numeric_limits<double>::infinity();
  return 20.0 * std::log10(peak);
}

}  // namespace sy::engine
