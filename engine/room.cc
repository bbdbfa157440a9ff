#include "engine/room.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>

#include "engine/denormals.h"

namespace sy {

namespace {

constexpr double kShortestLineMs = 22.0;  // at size 0.5; scaled by 0.5 + size
constexpr double kLongestLineMs = 68.0;
constexpr double kPredelayMs = 5.0;
constexpr double kEarlyEnergy = 0.5;      // early reflections' energy per ear at wet = 1
constexpr float kBias = 1e-20f;

// At size 0.5, the delay spread of each diffusion stage; scaled by 0.5 + size.
constexpr double kDiffusionMs[Room::kDiffusionStages] = {4.0, 8.0, 16.0, 32.0};

// Sign patterns (bit k set: +1 for channel k). Every pair differs in exactly 8 of 16
// places, so they are orthogonal: left and right feed and read the network along
// independent directions (decorrelated ears; a centred source excites it as much as a
// side one), and each diffusion stage flips a different half of the channels.
constexpr unsigned kInLeftSigns = 0b0000101110110101u;
constexpr unsigned kInRightSigns = 0b1011111000010100u;
constexpr unsigned kOutLeftSigns = 0b0101010110010110u;
constexpr unsigned kOutRightSigns = 0b0101111101100000u;
constexpr unsigned kDiffusionSigns[Room::kDiffusionStages] = {
    0b1101100000100111u, 0b0110001001110110u, 0b1110101110000010u, 0b1100011010101100u};
static_assert(std::popcount(kInLeftSigns ^ kInRightSigns) == 8);
static_assert(std::popcount(kOutLeftSigns ^ kOutRightSigns) == 8);

struct EarlyTap {
  double ms;
  int same_side;  // 1: from the ear's own side, 0: from the opposite side
  int sign;
};
// Times at size 0.5; the two ears hear different reflections.
constexpr EarlyTap kLeftEar[Room::kTapsPerEar] = {
    {7.3, 1, 1}, {11.9, 0, -1}, {17.1, 1, 1}, {23.6, 1, -1}, {30.2, 0, 1}, {39.7, 1, -1}};
constexpr EarlyTap kRightEar[Room::kTapsPerEar] = {
    {8.1, 1, 1}, {13.2, 0, 1}, {15.8, 1, -1}, {26.3, 1, 1}, {33.1, 0, -1}, {37.4, 1, -1}};

bool is_prime(std::size_t n) {
  if (n < 2) return false;
  for (std::size_t d = 2; d * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

float sign_of(unsigned pattern, std::size_t k) { return (pattern >> k) & 1u ? 1.0f : -1.0f; }

// In-place unnormalised fast Walsh-Hadamard transform of 16 values.
void hadamard16(float* v) noexcept {
  for (std::size_t half = 1; half < 16; half *= 2) {
    for (std::size_t i = 0; i < 16; i += 2 * half) {
      for (std::size_t j = i; j < i + half; ++j) {
        const float a = v[j];
        const float b = v[j + half];
        v[j] = a + b;
        v[j + half] = a - b;
      }
    }
  }
}

}  // namespace

Room::Room(const RoomParams& params) : params_(params) {
  params_.size = std::clamp(params_.size, 0.0, 1.0);
  params_.damping = std::clamp(params_.damping, 0.0, 1.0);
  params_.wet = std::clamp(params_.wet, 0.0, 1.0);
  rt60_ = rt60_for_size(params_.size);
  rt60_high_ = rt60_ * (1.0 - 0.8 * params_.damping);
}

void Room::prepare(double sample_rate, std::size_t /*max_block_frames*/) {
  const double scale = 0.5 + params_.size;
  const auto frames_of = [&](double ms) {
    return static_cast<std::size_t>(std::lround(ms * scale * sample_rate / 1000.0));
  };

  // Late reverb: lengths spread geometrically, each moved up to the next unused prime so
  // no two lines share a period (no common resonances, no metallic ringing).
  std::size_t total = 0;
  std::size_t previous = 0;
  double delay_sum = 0;
  for (std::size_t k = 0; k < kLines; ++k) {
    const double ms = kShortestLineMs *
                      std::pow(kLongestLineMs / kShortestLineMs, static_cast<double>(k) / (kLines - 1));
    std::size_t n = std::max(frames_of(ms), previous + 1);
    while (!is_prime(n)) ++n;
    previous = n;
    Line& line = line_[k];
    line.offset = total;
    line.length = n;
    total += n;
    delay_sum += static_cast<double>(n);
    const double passes_low = static_cast<double>(n) / (sample_rate * rt60_);
    const double passes_high = static_cast<double>(n) / (sample_rate * rt60_high_);
    const double g = std::pow(10.0, -3.0 * passes_low);
    const double h = std::pow(10.0, -3.0 * passes_high);
    const double ratio = h / g;  // the absorption filter's gain at Nyquist
    line.gain = static_cast<float>(g);
    line.pole = static_cast<float>((1.0 - ratio) / (1.0 + ratio));
    in_left_[k] = 0.25f * sign_of(kInLeftSigns, k);
    in_right_[k] = 0.25f * sign_of(kInRightSigns, k);
    out_left_[k] = 0.25f * sign_of(kOutLeftSigns, k);
    out_right_[k] = 0.25f * sign_of(kOutRightSigns, k);
  }
  lines_.assign(total, 0.0f);

  // Diffusion: within each stage, channel k gets a delay in the k-th sixteenth of the
  // stage's spread (jittered by a fixed sequence) so all channels differ.
  std::uint32_t lcg = 12345u;
  std::size_t diffusion_total = 0;
  for (std::size_t s = 0; s < kDiffusionStages; ++s) {
    for (std::size_t k = 0; k < kLines; ++k) {
      lcg = lcg * 1664525u + 1013904223u;
      const double jitter = static_cast<double>(lcg >> 8) / static_cast<double>(1u << 24);
      const double ms = kDiffusionMs[s] * (static_cast<double>(k) + jitter) / kLines;
      Delay& d = diffusion_[s][k];
      d.offset = diffusion_total;
      d.length = std::max<std::size_t>(1, frames_of(ms));
      diffusion_total += d.length;
    }
  }
  diffusion_buffer_.assign(diffusion_total, 0.0f);
  // Stored energy decays as exp(-ln(1e6) t / (rt60 fs)) and leaves through the lines at
  // about E / sum(lengths) per sample and ear: scale the late output to unit energy.
  const double decay_samples = rt60_ * sample_rate;
  late_gain_ = static_cast<float>(std::sqrt(std::log(1e6) * delay_sum / decay_samples));

  // Early reflections: gains fall with time, normalised to kEarlyEnergy per ear.
  std::size_t longest_tap = 0;
  for (int ear = 0; ear < 2; ++ear) {
    const EarlyTap* pattern = ear == 0 ? kLeftEar : kRightEar;
    double energy = 0;
    for (std::size_t t = 0; t < kTapsPerEar; ++t) {
      const double g = std::exp(-pattern[t].ms / 30.0);
      energy += g * g;
    }
    const double norm = std::sqrt(kEarlyEnergy / energy);
    for (std::size_t t = 0; t < kTapsPerEar; ++t) {
      Tap& tap = taps_[static_cast<std::size_t>(ear)][t];
      tap.delay = std::max<std::size_t>(1, frames_of(pattern[t].ms));
      tap.gain = static_cast<float>(pattern[t].sign * norm * std::exp(-pattern[t].ms / 30.0));
      tap.source = pattern[t].same_side ? ear : 1 - ear;
      longest_tap = std::max(longest_tap, tap.delay);
    }
  }
  const double early_cutoff = 12000.0 - 9000.0 * params_.damping;
  early_pole_ = static_cast<float>(std::exp(-2.0 * std::numbers::pi * std::min(early_cutoff, 0.45 * sample_rate) /
                                            sample_rate));
  predelay_ = std::max<std::size_t>(1, frames_of(kPredelayMs));
  for (auto& ch : input_) ch.assign(std::max(longest_tap, predelay_) + 1, 0.0f);

  wet_ = static_cast<float>(params_.wet);
  tail_ = static_cast<std::size_t>(std::ceil(decay_samples)) + predelay_ + longest_tap;
  reset();
}

void Room::reset() noexcept {
  for (auto& ch : input_) std::fill(ch.begin(), ch.end(), 0.0f);
  input_pos_ = 0;
  early_state_ = {0.0f, 0.0f};
  std::fill(lines_.begin(), lines_.end(), 0.0f);
  std::fill(diffusion_buffer_.begin(), diffusion_buffer_.end(), 0.0f);
  for (auto& stage : diffusion_)
    for (Delay& d : stage) d.pos = 0;
  for (Line& line : line_) {
    line.pos = 0;
    line.state = 0;
  }
  bias_ = kBias;
}

void Room::process(const float* const* in, float* const* out, std::size_t frames) noexcept {
  const ScopedFlushDenormals flush;
  const std::size_t history = input_[0].size();
  const auto delayed = [&](int channel, std::size_t delay) noexcept {
    const std::size_t idx = input_pos_ >= delay ? input_pos_ - delay : input_pos_ + history - delay;
    return input_[static_cast<std::size_t>(channel)][idx];
  };
  float* lines = lines_.data();
  float* diffusion = diffusion_buffer_.data();
  float mix[kLines];
  float diffused[kLines];

  for (std::size_t i = 0; i < frames; ++i) {
    input_[0][input_pos_] = in[0][i];
    input_[1][input_pos_] = in[1][i];

    float early[2];
    for (int ear = 0; ear < 2; ++ear) {
      float sum = 0.0f;
      for (const Tap& tap : taps_[static_cast<std::size_t>(ear)]) sum += tap.gain * delayed(tap.source, tap.delay);
      float& state = early_state_[static_cast<std::size_t>(ear)];
      state = sum + early_pole_ * (state - sum);
      early[ear] = state;
    }
    const float feed_left = delayed(0, predelay_);
    const float feed_right = delayed(1, predelay_);
    if (++input_pos_ == history) input_pos_ = 0;

    for (std::size_t k = 0; k < kLines; ++k) diffused[k] = in_left_[k] * feed_left + in_right_[k] * feed_right;
    for (std::size_t s = 0; s < kDiffusionStages; ++s) {
      for (std::size_t k = 0; k < kLines; ++k) {
        Delay& d = diffusion_[s][k];
        float& slot = diffusion[d.offset + d.pos];
        const float delayed_value = slot;
        slot = diffused[k];
        if (++d.pos == d.length) d.pos = 0;
        diffused[k] = (kDiffusionSigns[s] >> k) & 1u ? delayed_value : -delayed_value;
      }
      hadamard16(diffused);
      for (float& v : diffused) v *= 0.25f;
    }

    float late_left = 0.0f, late_right = 0.0f;
    for (std::size_t k = 0; k < kLines; ++k) {
      Line& line = line_[k];
      const float x = lines[line.offset + line.pos];
      late_left += out_left_[k] * x;
      late_right += out_right_[k] * x;
      // Jot absorption filter g (1 - a) / (1 - a z^-1); DC gain g.
      line.state = line.gain * (1.0f - line.pole) * x + line.pole * line.state + bias_;
      mix[k] = line.state;
    }
    hadamard16(mix);
    for (std::size_t k = 0; k < kLines; ++k) {
      Line& line = line_[k];
      lines[line.offset + line.pos] = 0.25f * mix[k] + diffused[k];
      if (++line.pos == line.length) line.pos = 0;
    }
    bias_ = -bias_;

    out[0][i] = wet_ * (early[0] + late_gain_ * late_left);
    out[1][i] = wet_ * (early[1] + late_gain_ * late_right);
  }
}

}  // namespace sy
