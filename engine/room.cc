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

constexpr std::size_t kMaxBlock = 256;

// In-place orthonormal 16-point Hadamard transform (scaled by 1/4) of every frame of 16
// planar channels; the inner loops run over frames, so they vectorise.
void hadamard16(const std::array<float*, Room::kLines>& ch, std::size_t n) noexcept {
  for (std::size_t half = 1; half < Room::kLines; half *= 2) {
    const float scale = half == Room::kLines / 2 ? 0.25f : 1.0f;
    for (std::size_t i = 0; i < Room::kLines; i += 2 * half) {
      for (std::size_t j = i; j < i + half; ++j) {
        float* __restrict a = ch[j];
        float* __restrict b = ch[j + half];
        for (std::size_t t = 0; t < n; ++t) {
          const float x = a[t];
          const float y = b[t];
          a[t] = scale * (x + y);
          b[t] = scale * (x - y);
        }
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

void Room::Ring::allocate(std::size_t min_capacity) {
  const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(min_capacity, 2));
  buffer_.assign(capacity, 0.0f);
  mask_ = capacity - 1;
  written_ = 0;
}

void Room::Ring::clear() noexcept {
  std::fill(buffer_.begin(), buffer_.end(), 0.0f);
  written_ = 0;
}

void Room::Ring::write(const float* x, std::size_t n) noexcept {
  const std::size_t p = written_ & mask_;
  const std::size_t first = std::min(n, buffer_.size() - p);
  std::copy(x, x + first, buffer_.data() + p);
  std::copy(x + first, x + n, buffer_.data());
  written_ += n;
}

// Indices wrap modulo 2^64 like the ring itself, so "before the start" reads the zeros
// the ring was cleared with.
void Room::Ring::read(std::size_t start, std::size_t n, float* out) const noexcept {
  const std::size_t p = start & mask_;
  const std::size_t first = std::min(n, buffer_.size() - p);
  std::copy(buffer_.data() + p, buffer_.data() + p + first, out);
  std::copy(buffer_.data(), buffer_.data() + (n - first), out + first);
}

void Room::Ring::accumulate(std::size_t start, std::size_t n, float gain, float* acc) const noexcept {
  const std::size_t p = start & mask_;
  const std::size_t first = std::min(n, buffer_.size() - p);
  const float* src = buffer_.data() + p;
  for (std::size_t i = 0; i < first; ++i) acc[i] += gain * src[i];
  src = buffer_.data() - first;
  for (std::size_t i = first; i < n; ++i) acc[i] += gain * src[i];
}

void Room::prepare(double sample_rate, std::size_t /*max_block_frames*/) {
  const double scale = 0.5 + params_.size;
  const auto frames_of = [&](double ms) {
    return static_cast<std::size_t>(std::lround(ms * scale * sample_rate / 1000.0));
  };

  // Late reverb: lengths spread geometrically, each moved up to the next unused prime so
  // no two lines share a period (no common resonances, no metallic ringing).
  std::size_t previous = 0;
  double delay_sum = 0;
  for (std::size_t k = 0; k < kLines; ++k) {
    const double ms = kShortestLineMs *
                      std::pow(kLongestLineMs / kShortestLineMs, static_cast<double>(k) / (kLines - 1));
    std::size_t n = std::max(frames_of(ms), previous + 1);
    while (!is_prime(n)) ++n;
    previous = n;
    line_delay_[k] = n;
    delay_sum += static_cast<double>(n);
    const double passes_low = static_cast<double>(n) / (sample_rate * rt60_);
    const double passes_high = static_cast<double>(n) / (sample_rate * rt60_high_);
    const double g = std::pow(10.0, -3.0 * passes_low);
    const double h = std::pow(10.0, -3.0 * passes_high);
    const double ratio = h / g;  // the absorption filter's gain at Nyquist
    const double pole = (1.0 - ratio) / (1.0 + ratio);
    line_input_gain_[k] = static_cast<float>(g * (1.0 - pole));
    line_pole_[k] = static_cast<float>(pole);
    in_left_[k] = 0.25f * sign_of(kInLeftSigns, k);
    in_right_[k] = 0.25f * sign_of(kInRightSigns, k);
    out_left_[k] = 0.25f * sign_of(kOutLeftSigns, k);
    out_right_[k] = 0.25f * sign_of(kOutRightSigns, k);
  }
  // Blocks no longer than the shortest line let each block read its feedback before
  // writing it.
  block_ = std::min(kMaxBlock, line_delay_[0]);
  for (std::size_t k = 0; k < kLines; ++k) lines_[k].allocate(line_delay_[k] + block_);
  // Stored energy decays as exp(-ln(1e6) t / (rt60 fs)) and leaves through the lines at
  // about E / sum(lengths) per sample and ear: scale the late output to unit energy.
  const double decay_samples = rt60_ * sample_rate;
  late_gain_ = static_cast<float>(std::sqrt(std::log(1e6) * delay_sum / decay_samples));

  // Diffusion: within each stage, channel k gets a delay in the k-th sixteenth of the
  // stage's spread (jittered by a fixed sequence) so all channels differ.
  std::uint32_t lcg = 12345u;
  for (std::size_t s = 0; s < kDiffusionStages; ++s) {
    for (std::size_t k = 0; k < kLines; ++k) {
      lcg = lcg * 1664525u + 1013904223u;
      const double jitter = static_cast<double>(lcg >> 8) / static_cast<double>(1u << 24);
      const double ms = kDiffusionMs[s] * (static_cast<double>(k) + jitter) / kLines;
      diffusion_delay_[s][k] = frames_of(ms);
      diffusion_[s][k].allocate(diffusion_delay_[s][k] + block_);
    }
  }

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
  for (auto& ring : input_) ring.allocate(std::max(longest_tap, predelay_) + block_);

  scratch_.assign((2 * kLines + 8) * block_, 0.0f);
  float* p = scratch_.data();
  for (std::size_t k = 0; k < kLines; ++k, p += block_) diffused_[k] = p;
  for (std::size_t k = 0; k < kLines; ++k, p += block_) line_out_[k] = p;
  for (int c = 0; c < 2; ++c) {
    in_copy_[c] = p;
    feed_[c] = p + block_;
    early_[c] = p + 2 * block_;
    late_[c] = p + 3 * block_;
    p += 4 * block_;
  }

  wet_ = static_cast<float>(params_.wet);
  tail_ = static_cast<std::size_t>(std::ceil(decay_samples)) + predelay_ + longest_tap;
  reset();
}

void Room::reset() noexcept {
  for (auto& ring : input_) ring.clear();
  for (auto& stage : diffusion_)
    for (auto& ring : stage) ring.clear();
  for (auto& ring : lines_) ring.clear();
  early_state_ = {0.0f, 0.0f};
  line_state_.fill(0.0f);
  bias_ = kBias;
}

void Room::process(const float* const* in, float* const* out, std::size_t frames) noexcept {
  const ScopedFlushDenormals flush;
  for (std::size_t pos = 0; pos < frames; pos += block_) {
    const std::size_t n = std::min(block_, frames - pos);
    process_block(in[0] + pos, in[1] + pos, out[0] + pos, out[1] + pos, n);
  }
}

void Room::process_block(const float* left, const float* right, float* out_left, float* out_right,
                         std::size_t n) noexcept {
  // in and out may alias: take the input first.
  std::copy(left, left + n, in_copy_[0]);
  std::copy(right, right + n, in_copy_[1]);
  const std::size_t start = input_[0].written();  // absolute index of this block's first frame
  for (int c = 0; c < 2; ++c) input_[static_cast<std::size_t>(c)].write(in_copy_[c], n);

  // Early reflections, then a gentle lowpass (walls absorb highs).
  for (std::size_t ear = 0; ear < 2; ++ear) {
    float* e = early_[ear];
    std::fill(e, e + n, 0.0f);
    for (const Tap& tap : taps_[ear]) {
      input_[static_cast<std::size_t>(tap.source)].accumulate(start - tap.delay, n, tap.gain, e);
    }
    float state = early_state_[ear];
    for (std::size_t i = 0; i < n; ++i) {
      state = e[i] + early_pole_ * (state - e[i]);
      e[i] = state;
    }
    early_state_[ear] = state;
  }

  // Spread the pre-delayed input over 16 channels and diffuse it.
  input_[0].read(start - predelay_, n, feed_[0]);
  input_[1].read(start - predelay_, n, feed_[1]);
  for (std::size_t k = 0; k < kLines; ++k) {
    float* d = diffused_[k];
    for (std::size_t i = 0; i < n; ++i) d[i] = in_left_[k] * feed_[0][i] + in_right_[k] * feed_[1][i];
  }
  for (std::size_t s = 0; s < kDiffusionStages; ++s) {
    for (std::size_t k = 0; k < kLines; ++k) {
      Ring& ring = diffusion_[s][k];
      const std::size_t at = ring.written();
      ring.write(diffused_[k], n);
      ring.read(at - diffusion_delay_[s][k], n, diffused_[k]);
      if (((kDiffusionSigns[s] >> k) & 1u) == 0) {
        float* d = diffused_[k];
        for (std::size_t i = 0; i < n; ++i) d[i] = -d[i];
      }
    }
    hadamard16(diffused_, n);
  }

  // Feedback network: read every line (each is at least a block long), sum the ears,
  // absorb, mix, add the diffused input and write back.
  std::fill(late_[0], late_[0] + n, 0.0f);
  std::fill(late_[1], late_[1] + n, 0.0f);
  for (std::size_t k = 0; k < kLines; ++k) {
    Ring& ring = lines_[k];
    float* x = line_out_[k];
    ring.read(ring.written() - line_delay_[k], n, x);
    const float gl = out_left_[k], gr = out_right_[k];
    for (std::size_t i = 0; i < n; ++i) {
      late_[0][i] += gl * x[i];
      late_[1][i] += gr * x[i];
    }
  }
  // Jot absorption filter g (1 - a) / (1 - a z^-1) per line; lines interleaved for ILP.
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < kLines; ++k) {
      line_state_[k] = line_input_gain_[k] * line_out_[k][i] + line_pole_[k] * line_state_[k] + bias_;
      line_out_[k][i] = line_state_[k];
    }
    bias_ = -bias_;
  }
  hadamard16(line_out_, n);
  for (std::size_t k = 0; k < kLines; ++k) {
    float* y = line_out_[k];
    const float* d = diffused_[k];
    for (std::size_t i = 0; i < n; ++i) y[i] += d[i];
    lines_[k].write(y, n);
  }

  const float late = late_gain_;
  for (std::size_t i = 0; i < n; ++i) {
    out_left[i] = wet_ * (early_[0][i] + late * late_[0][i]);
    out_right[i] = wet_ * (early_[1][i] + late * late_[1][i]);
  }
}

}  // namespace sy
