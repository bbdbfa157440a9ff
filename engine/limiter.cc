#include "engine/limiter.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "engine/vector_clones.h"

namespace sy::engine {

TruePeakLimiter::TruePeakLimiter(double ceiling_dbtp)
    : ceiling_dbtp_(ceiling_dbtp),
      phases_(true_peak_interpolator().phases),
      interpolation_bound_(true_peak_interpolator().bound) {}

void TruePeakLimiter::prepare(double sample_rate, std::size_t /*max_block_frames*/) {
  threshold_ = static_cast<float>(std::pow(10.0, (ceiling_dbtp_ - kMarginDb) / 20.0));
  attack_ = std::max<std::size_t>(8, static_cast<std::size_t>(std::lround(kAttackSeconds * sample_rate)));
  hold_length_ = attack_ + 2 * kGuard;
  latency_ = kHalfTaps + attack_ - 1 + kGuard;
  release_coef_ = 1.0 - std::exp(-1.0 / (kReleaseSeconds * sample_rate));
  hold_time_.assign(hold_length_ + 1, 0);
  hold_gain_.assign(hold_length_ + 1, 1.0f);
  box_.assign(attack_, 1.0);
  for (auto& d : delay_) d.assign(latency_ + 1, 0.0f);
  reset();
}

void TruePeakLimiter::reset() noexcept {
  for (auto& w : window_) w.fill(0.0f);
  hold_head_ = hold_count_ = 0;
  time_ = 0;
  release_state_ = 1.0;
  std::fill(box_.begin(), box_.end(), 1.0);
  box_pos_ = 0;
  box_sum_ = static_cast<double>(attack_);
  for (auto& d : delay_) std::fill(d.begin(), d.end(), 0.0f);
  delay_pos_ = 0;
  min_gain_ = 1.0f;
}

SY_VECTOR_CLONES void TruePeakLimiter::detect_block(ConstAudioView in) noexcept {
  constexpr std::size_t kKeep = kTaps - 1;
  const std::size_t frames = in.num_frames();
  std::fill(peak_.begin(), peak_.begin() + static_cast<std::ptrdiff_t>(frames), 0.0f);
  float loudest = 0.0f;
  for (std::size_t c = 0; c < 2; ++c) {
    float* win = window_[c].data();
    std::copy_n(in.channel(c), frames, win + kKeep);
    loudest = std::max(loudest, largest_magnitude(win, kKeep + frames));
  }
  // No interpolated point can exceed sum|c| times the loudest sample of its window, so
  // where that stays under the threshold every gain is 1 and the FIR can be skipped (most
  // of a normalised song: the output is the same, only cheaper).
  if (loudest * interpolation_bound_ <= threshold_) {
    for (auto& w : window_) std::copy(w.data() + frames, w.data() + frames + kKeep, w.data());
    return;
  }
  for (std::size_t c = 0; c < 2; ++c) {
    float* win = window_[c].data();
    // The sample itself: the centre of its window, kHalfTaps frames back.
    for (std::size_t i = 0; i < frames; ++i) peak_[i] = std::max(peak_[i], std::abs(win[i + kHalfTaps - 1]));
    for (std::size_t p = 0; p + 1 < kOversample; ++p) {
      const float* coef = phases_[p].data();
      float* acc = acc_.data();
      std::fill(acc, acc + frames, 0.0f);
      // Taps outside, outputs inside: each output still sums its taps in order.
      for (std::size_t j = 0; j < kTaps; ++j) {
        const float k = coef[j];
        const float* x = win + j;
        for (std::size_t i = 0; i < frames; ++i) acc[i] += k * x[i];
      }
      for (std::size_t i = 0; i < frames; ++i) peak_[i] = std::max(peak_[i], std::abs(acc[i]));
    }
    std::copy(win + frames, win + frames + kKeep, win);
  }
}

float TruePeakLimiter::gain_for(float peak) const noexcept {
  // Written so NaN compares false and leaves the gain at 1.
  return peak > threshold_ ? threshold_ / peak : 1.0f;
}

namespace {
// An index into a ring of `cap` that is less than 2 * cap: a compare instead of a division
// (three divisions a sample were a chain of ~25-cycle instructions in the limiter's loop).
inline std::size_t wrap(std::size_t i, std::size_t cap) noexcept {
  assert(i < 2 * cap);
  return i >= cap ? i - cap : i;
}
}  // namespace

inline float TruePeakLimiter::hold(float gain) noexcept {
  // The queue holds at most cap - 1 entries before this push, so every index below is < 2 cap.
  const std::size_t cap = hold_time_.size();
  // Drop entries that the new, smaller-or-equal gain makes irrelevant.
  while (hold_count_ > 0) {
    const std::size_t back = wrap(hold_head_ + hold_count_ - 1, cap);
    if (hold_gain_[back] < gain) break;
    --hold_count_;
  }
  const std::size_t slot = wrap(hold_head_ + hold_count_, cap);
  hold_time_[slot] = time_;
  hold_gain_[slot] = gain;
  ++hold_count_;
  // Drop the front when it has left the window.
  if (time_ - hold_time_[hold_head_] >= hold_length_) {
    hold_head_ = wrap(hold_head_ + 1, cap);
    --hold_count_;
  }
  ++time_;
  return hold_gain_[hold_head_];
}

void TruePeakLimiter::process(ConstAudioView in, AudioView out) noexcept {
  const std::size_t frames = out.num_frames();
  for (std::size_t done = 0; done < frames; done += kChunk) {
    const std::size_t n = std::min(kChunk, frames - done);
    process_chunk(in.slice(done, n), out.slice(done, n));
  }
}

void TruePeakLimiter::process_chunk(ConstAudioView in, AudioView out) noexcept {
  detect_block(in);
  const std::size_t frames = in.num_frames();
  const std::size_t delay_len = delay_[0].size();
  const float* in_l = in.channel(0);
  const float* in_r = in.channel(1);
  float* out_l = out.channel(0);
  float* out_r = out.channel(1);
  // The state in locals for the loop: as members, each was stored and reloaded at every
  // sample, the output's float stores possibly aliasing them.
  double release = release_state_;
  double box_sum = box_sum_;
  std::size_t box_pos = box_pos_;
  std::size_t delay_pos = delay_pos_;
  float min_gain = min_gain_;
  double* box = box_.data();
  float* delay_l = delay_[0].data();
  float* delay_r = delay_[1].data();
  const std::size_t attack = attack_;
  const double release_coef = release_coef_;
  for (std::size_t i = 0; i < frames; ++i) {
    const float left = in_l[i];
    const float right = in_r[i];

    const float held = hold(gain_for(peak_[i]));
    if (static_cast<double>(held) < release) {
      release = static_cast<double>(held);
    } else {
      release += (static_cast<double>(held) - release) * release_coef;
      if (1.0 - release < 1e-9) release = 1.0;
    }

    box_sum += release - box[box_pos];
    box[box_pos] = release;
    if (++box_pos == attack) {
      // Re-add exactly once per window so rounding never drifts the gain.
      box_pos = 0;
      double exact = 0;
      for (std::size_t k = 0; k < attack; ++k) exact += box[k];
      box_sum = exact;
    }
    const float gain = std::min(1.0f, static_cast<float>(box_sum / static_cast<double>(attack)));
    min_gain = std::min(min_gain, gain);

    // The ring holds latency_ + 1 samples: read the oldest, then overwrite it.
    const std::size_t read = delay_pos + 1 == delay_len ? 0 : delay_pos + 1;
    delay_l[delay_pos] = left;
    delay_r[delay_pos] = right;
    out_l[i] = delay_l[read] * gain;
    out_r[i] = delay_r[read] * gain;
    delay_pos = read;
  }
  release_state_ = release;
  box_sum_ = box_sum;
  box_pos_ = box_pos;
  delay_pos_ = delay_pos;
  min_gain_ = min_gain;
}

std::unique_ptr<StereoProcessor> make_true_peak_limiter(double ceiling_dbtp) {
  return std::make_unique<TruePeakLimiter>(ceiling_dbtp);
}

}  // namespace sy::engine
