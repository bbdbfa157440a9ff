#include "engine/room.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>

#include "engine/denormals.h"
#include "engine/vector_clones.h"

// The room's loops are plain float arithmetic over frames: with AVX2 they run eight frames
// wide instead of four (SY_VECTOR_CLONES).

namespace sy::engine {

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
// Times at size 0.5; the two ears hear different reflections. The first same-side
// reflections (7.3 and 8.1 ms) are coherent with the dry sound at their ear and comb it:
// with equal signs both ears dipped together (-0.9 dB at 198 Hz for centred pink noise,
// where a third octave is too narrow to average the comb); with opposite signs one ear's
// dips fall where the other's peaks are while the 0.8 ms between them is short against
// the period, so the two ears' sum stays within 0.55 dB below 400 Hz.
constexpr EarlyTap kLeftEar[Room::kTapsPerEar] = {
    {7.3, 1, 1}, {11.9, 0, -1}, {17.1, 1, 1}, {23.6, 1, -1}, {30.2, 0, 1}, {39.7, 1, -1}};
constexpr EarlyTap kRightEar[Room::kTapsPerEar] = {
    {8.1, 1, -1}, {13.2, 0, 1}, {15.8, 1, -1}, {26.3, 1, 1}, {33.1, 0, -1}, {37.4, 1, -1}};

bool is_prime(std::size_t n) {
  if (n < 2) return false;
  for (std::size_t d = 2; d * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

float sign_of(unsigned pattern, std::size_t k) { return (pattern >> k) & 1u ? 1.0f : -1.0f; }

constexpr std::size_t kMaxBlock = 512;
constexpr std::size_t kPairs = Room::kHalfbandPairs;

// One radix-4 Walsh-Hadamard butterfly per frame over four planar channels.
SY_VECTOR_CLONES void hadamard4(float* __restrict a, float* __restrict b, float* __restrict c, float* __restrict d,
               std::size_t n) noexcept {
  for (std::size_t t = 0; t < n; ++t) {
    const float s01 = a[t] + b[t], d01 = a[t] - b[t];
    const float s23 = c[t] + d[t], d23 = c[t] - d[t];
    a[t] = s01 + s23;
    b[t] = d01 + d23;
    c[t] = s01 - s23;
    d[t] = d01 - d23;
  }
}

// First radix-4 pass of the 16-point transform, reading scaled inputs from one place and
// writing another: dst = H4(gain * src) over channels j, j + 4, j + 8, j + 12.
SY_VECTOR_CLONES void hadamard4_from(const float* __restrict a, const float* __restrict b, const float* __restrict c,
                                     const float* __restrict d, const float* g, float* __restrict ya,
                                     float* __restrict yb, float* __restrict yc, float* __restrict yd,
                                     std::size_t n) noexcept {
  const float ga = g[0], gb = g[1], gc = g[2], gd = g[3];
  for (std::size_t t = 0; t < n; ++t) {
    const float xa = ga * a[t], xb = gb * b[t], xc = gc * c[t], xd = gd * d[t];
    const float s01 = xa + xb, d01 = xa - xb;
    const float s23 = xc + xd, d23 = xc - xd;
    ya[t] = s01 + s23;
    yb[t] = d01 + d23;
    yc[t] = s01 - s23;
    yd[t] = d01 - d23;
  }
}

// Unnormalised 16-point Hadamard transform of every frame of 16 planar channels, as two
// radix-4 passes (half the memory traffic of four radix-2 passes): dst = H16(gain * src);
// the callers fold the 1/4 normalisation into the gains. Loops run over frames and
// vectorise.
void hadamard16(const std::array<const float*, Room::kLines>& src, const std::array<float, Room::kLines>& gain,
                const std::array<float*, Room::kLines>& dst, std::size_t n) noexcept {
  for (std::size_t j = 0; j < 4; ++j) {
    const float g[4] = {gain[j], gain[j + 4], gain[j + 8], gain[j + 12]};
    hadamard4_from(src[j], src[j + 4], src[j + 8], src[j + 12], g, dst[j], dst[j + 4], dst[j + 8], dst[j + 12], n);
  }
  for (std::size_t g = 0; g < Room::kLines; g += 4) hadamard4(dst[g], dst[g + 1], dst[g + 2], dst[g + 3], n);
}

// In place, unit gains.
void hadamard16(const std::array<float*, Room::kLines>& ch, std::size_t n) noexcept {
  for (std::size_t j = 0; j < 4; ++j) hadamard4(ch[j], ch[j + 4], ch[j + 8], ch[j + 12], n);
  for (std::size_t g = 0; g < Room::kLines; g += 4) hadamard4(ch[g], ch[g + 1], ch[g + 2], ch[g + 3], n);
}

// Halfband FIR around the centre tap (1/2): y[r] = x_even[r + K] / 2 +
// sum_q c_q (x_odd[r + K - q] + x_odd[r + K + q - 1]), the same shape for decimating
// (even/odd phases of the full-rate signal) and for the interpolator's odd phase.
SY_VECTOR_CLONES void halfband_odd(const float* __restrict odd, const std::array<float, kPairs>& c, float gain,
                  float* __restrict out, std::size_t n) noexcept {
  for (std::size_t r = 0; r < n; ++r) out[r] = 0.0f;
  for (std::size_t q = 1; q <= kPairs; ++q) {
    const float g = gain * c[q - 1];
    const float* lo = odd + kPairs - q;
    const float* hi = odd + kPairs + q - 1;
    for (std::size_t r = 0; r < n; ++r) out[r] += g * (lo[r] + hi[r]);
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

void Room::Delay::allocate(std::size_t lookback, std::size_t max_block) {
  lookback_ = lookback;
  // Moving `lookback` frames once per (size - lookback) appended frames: at most a quarter
  // of a copy per frame. The extra frames let a reader peek one frame past the newest.
  buffer_.assign(lookback + std::max(8 * max_block, 4 * lookback) + 4, 0.0f);
  clear();
}

void Room::Delay::clear() noexcept {
  std::fill(buffer_.begin(), buffer_.end(), 0.0f);
  pos_ = lookback_;
  written_ = 0;
}

float* Room::Delay::append(std::size_t n) noexcept {
  if (pos_ + n + 4 > buffer_.size()) {
    std::copy(buffer_.data() + pos_ - lookback_, buffer_.data() + pos_, buffer_.data());
    pos_ = lookback_;
  }
  float* p = buffer_.data() + pos_;
  pos_ += n;
  written_ += n;
  return p;
}

void Room::prepare(double sample_rate, std::size_t /*max_block_frames*/) {
  const double scale = 0.5 + params_.size;
  const double half_rate = 0.5 * sample_rate;  // the late part's rate
  const auto frames_of = [&](double ms, double rate) {
    return static_cast<std::size_t>(std::lround(ms * scale * rate / 1000.0));
  };

  // Halfband: Kaiser-windowed sinc (beta 4: about 45 dB of stopband from 0.3 of the rate;
  // aliases of a reverb's input only add to its diffuse tail), odd taps scaled so each
  // polyphase branch has unit gain at DC.
  {
    constexpr double kBeta = 4.0;
    const double taps_half = 2.0 * kPairs;  // the window reaches this far from the centre
    double sum = 0;
    for (std::size_t q = 1; q <= kPairs; ++q) {
      const double t = 2.0 * static_cast<double>(q) - 1.0;
      const double x = t / taps_half;
      const double window = std::cyl_bessel_i(0.0, kBeta * std::sqrt(1.0 - x * x)) / std::cyl_bessel_i(0.0, kBeta);
      const double sinc = std::sin(std::numbers::pi * t / 2.0) / (std::numbers::pi * t);
      halfband_[q - 1] = static_cast<float>(sinc * window);
      sum += sinc * window;
    }
    for (float& c : halfband_) c = static_cast<float>(static_cast<double>(c) * 0.25 / sum);
  }

  // Late reverb: lengths spread geometrically, each moved up to the next unused prime so
  // no two lines share a period (no common resonances, no metallic ringing).
  std::size_t previous = 0;
  double delay_sum = 0;
  for (std::size_t k = 0; k < kLines; ++k) {
    const double ms = kShortestLineMs *
                      std::pow(kLongestLineMs / kShortestLineMs, static_cast<double>(k) / (kLines - 1));
    std::size_t n = std::max(frames_of(ms, half_rate), previous + 1);
    while (!is_prime(n)) ++n;
    previous = n;
    line_delay_[k] = n;
    delay_sum += static_cast<double>(n);
    // Absorption g (c0 + c1 z^-1): gain g at DC and h at Nyquist. A two-tap FIR rather
    // than a one-pole: it needs no recursion, so it vectorises over frames.
    const double passes_low = static_cast<double>(n) / (half_rate * rt60_);
    const double passes_high = static_cast<double>(n) / (half_rate * rt60_high_);
    const double g = std::pow(10.0, -3.0 * passes_low);
    const double h = std::pow(10.0, -3.0 * passes_high);
    const double ratio = h / g;
    // 1/4: the Hadamard mix that follows is unnormalised.
    line_b0_[k] = static_cast<float>(0.25 * g * 0.5 * (1.0 + ratio));
    line_b1_[k] = static_cast<float>(0.25 * g * 0.5 * (1.0 - ratio));
    in_left_[k] = 0.25f * sign_of(kInLeftSigns, k);
    in_right_[k] = 0.25f * sign_of(kInRightSigns, k);
  }
  // Half-rate blocks no longer than the shortest line let each block read its feedback
  // before writing it.
  block_ = std::min(kMaxBlock, 2 * line_delay_[0] - 1);
  const std::size_t half_block = (block_ + 1) / 2 + 1;
  for (std::size_t k = 0; k < kLines; ++k) lines_[k].allocate(line_delay_[k] + half_block + 1, half_block);
  // Stored energy decays as exp(-ln(1e6) t / (rt60 fs)) and leaves through the lines at
  // about E / sum(lengths) per sample and ear: scale the late output to unit energy. sqrt 2:
  // the half-rate network hears a quarter of a full-rate impulse's energy, the
  // interpolator doubles it.
  const double decay_samples = rt60_ * half_rate;
  const double late_gain = std::sqrt(2.0 * std::log(1e6) * delay_sum / decay_samples);
  for (std::size_t k = 0; k < kLines; ++k) {
    out_left_[k] = static_cast<float>(params_.wet * late_gain * 0.25) * sign_of(kOutLeftSigns, k);
    out_right_[k] = static_cast<float>(params_.wet * late_gain * 0.25) * sign_of(kOutRightSigns, k);
  }

  // Diffusion: within each stage, channel k gets a delay in the k-th sixteenth of the
  // stage's spread (jittered by a fixed sequence) so all channels differ.
  std::uint32_t lcg = 12345u;
  for (std::size_t s = 0; s < kDiffusionStages; ++s) {
    for (std::size_t k = 0; k < kLines; ++k) {
      lcg = lcg * 1664525u + 1013904223u;
      const double jitter = static_cast<double>(lcg >> 8) / static_cast<double>(1u << 24);
      const double ms = kDiffusionMs[s] * (static_cast<double>(k) + jitter) / kLines;
      diffusion_delay_[s][k] = frames_of(ms, half_rate);
      diffusion_gain_[s][k] = 0.25f * sign_of(kDiffusionSigns[s], k);
      diffusion_[s][k].allocate(diffusion_delay_[s][k] + half_block, half_block);
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
      tap.delay = std::max<std::size_t>(1, frames_of(pattern[t].ms, sample_rate));
      tap.gain = static_cast<float>(params_.wet * pattern[t].sign * norm * std::exp(-pattern[t].ms / 30.0));
      tap.source = pattern[t].same_side ? ear : 1 - ear;
      longest_tap = std::max(longest_tap, tap.delay);
    }
  }
  const double early_cutoff = 12000.0 - 9000.0 * params_.damping;
  early_pole_ = static_cast<float>(std::exp(-2.0 * std::numbers::pi * std::min(early_cutoff, 0.45 * sample_rate) /
                                            sample_rate));
  // The decimator and interpolator delay the late part by 4K - 2 full-rate frames; the
  // pre-delay absorbs that.
  const std::size_t predelay = std::max<std::size_t>(4 * kPairs, frames_of(kPredelayMs, sample_rate));
  late_delay_ = predelay - (4 * kPairs - 2);
  for (auto& delay : input_) delay.allocate(std::max(longest_tap, predelay) + block_ + 4 * kPairs + 4, block_);
  for (auto& delay : late_) delay.allocate(half_block + 2 * kPairs + 2, half_block);

  bias_.resize(half_block + 1);
  for (std::size_t i = 0; i < bias_.size(); ++i) bias_[i] = i % 2 == 0 ? kBias : -kBias;

  const std::size_t phase = half_block + 2 * kPairs;
  scratch_.assign(2 * kLines * half_block + 2 * (block_ + 2 * phase + half_block), 0.0f);
  float* p = scratch_.data();
  for (std::size_t k = 0; k < kLines; ++k, p += half_block) diffused_[k] = p;
  for (std::size_t k = 0; k < kLines; ++k, p += half_block) line_out_[k] = p;
  for (int c = 0; c < 2; ++c) {
    early_[c] = p;
    even_[c] = p + block_;
    odd_[c] = even_[c] + phase;
    half_[c] = odd_[c] + phase;
    p = half_[c] + half_block;
  }

  tail_ = static_cast<std::size_t>(std::ceil(rt60_ * sample_rate)) + predelay + longest_tap;
  reset();
}

void Room::reset() noexcept {
  for (auto& delay : input_) delay.clear();
  for (auto& stage : diffusion_)
    for (auto& delay : stage) delay.clear();
  for (auto& delay : lines_) delay.clear();
  for (auto& delay : late_) delay.clear();
  early_state_ = {0.0f, 0.0f};
}

void Room::process(ConstAudioView in, AudioView out) noexcept {
  const ScopedFlushDenormals flush;
  const std::size_t frames = out.num_frames();
  for (std::size_t pos = 0; pos < frames; pos += block_) {
    const std::size_t n = std::min(block_, frames - pos);
    process_block(in.channel(0) + pos, in.channel(1) + pos, out.channel(0) + pos, out.channel(1) + pos, n);
  }
}

// Full-rate frame i of the late part's input is input frame i - late_delay_; half-rate
// frame j is decimated from full-rate frames up to 2j + 1 and interpolated back into
// full-rate frames from 2j + 1 on, so any block size gives the same output.
SY_VECTOR_CLONES void Room::process_block(const float* left, const float* right, float* out_left, float* out_right,
                         std::size_t n) noexcept {
  // in and out may alias: take the input first.
  const std::size_t start = input_[0].written();  // absolute index of this block's first frame
  std::copy(left, left + n, input_[0].append(n));
  std::copy(right, right + n, input_[1].append(n));

  // Early reflections, then a gentle lowpass (walls absorb highs); both ears in one loop
  // so the two recursions overlap.
  for (std::size_t ear = 0; ear < 2; ++ear) {
    float* e = early_[ear];
    std::fill(e, e + n, 0.0f);
    for (const Tap& tap : taps_[ear]) {
      const float* x = input_[static_cast<std::size_t>(tap.source)].at(start - tap.delay);
      const float g = tap.gain;
      for (std::size_t i = 0; i < n; ++i) e[i] += g * x[i];
    }
  }
  {
    float s0 = early_state_[0], s1 = early_state_[1];
    float* e0 = early_[0];
    float* e1 = early_[1];
    for (std::size_t i = 0; i < n; ++i) {
      s0 = e0[i] + early_pole_ * (s0 - e0[i]);
      s1 = e1[i] + early_pole_ * (s1 - e1[i]);
      e0[i] = s0;
      e1[i] = s1;
    }
    early_state_ = {s0, s1};
  }

  // Decimate the pre-delayed input to the half-rate frames this block completes.
  const std::size_t j0 = start / 2;
  const std::size_t m = (start + n) / 2 - j0;
  if (m > 0) {
    const std::size_t span = m + 2 * kPairs - 1;
    for (std::size_t c = 0; c < 2; ++c) {
      const float* w = input_[c].at(2 * (j0 + 1 - 2 * kPairs) - late_delay_);
      float* ev = even_[c];
      float* od = odd_[c];
      for (std::size_t r = 0; r < span; ++r) {
        ev[r] = w[2 * r];
        od[r] = w[2 * r + 1];
      }
      halfband_odd(od, halfband_, 1.0f, half_[c], m);
      const float* centre = ev + kPairs;
      for (std::size_t r = 0; r < m; ++r) half_[c][r] += 0.5f * centre[r];
    }
    process_late(j0, m);
  }

  // Interpolate back: full-rate frame 2p is half-rate frame p - K, frame 2p + 1 the odd
  // branch around it.
  const std::size_t p0 = start / 2;
  const std::size_t count = (start + n - 1) / 2 - p0 + 1;
  float* outs[2] = {out_left, out_right};
  for (std::size_t c = 0; c < 2; ++c) {
    // The last frame may be one not written yet: only a frame that is not output uses it.
    const float* ys = late_[c].at(p0 + 1 - 2 * kPairs);
    halfband_odd(ys, halfband_, 2.0f, half_[c], count);
    const float* even_branch = ys + kPairs - 1;
    const float* odd_branch = half_[c];
    const float* e = early_[c];
    float* o = outs[c];
    std::size_t i = 0;
    std::size_t r = 0;
    if (start % 2 == 1) {
      o[0] = e[0] + odd_branch[0];
      i = 1;
      r = 1;
    }
    for (; i + 1 < n; i += 2, ++r) {
      o[i] = e[i] + even_branch[r];
      o[i + 1] = e[i + 1] + odd_branch[r];
    }
    if (i < n) o[i] = e[i] + even_branch[r];
  }
}

SY_VECTOR_CLONES void Room::process_late(std::size_t j0, std::size_t m) noexcept {
  // Spread the input over 16 channels, straight into the first diffusion stage.
  for (std::size_t k = 0; k < kLines; ++k) {
    float* d = diffusion_[0][k].append(m);
    const float gl = in_left_[k], gr = in_right_[k];
    const float* fl = half_[0];
    const float* fr = half_[1];
    for (std::size_t i = 0; i < m; ++i) d[i] = gl * fl[i] + gr * fr[i];
  }
  // Each stage: delay, flip polarities, mix; the mix writes the next stage's input in place.
  for (std::size_t s = 0; s < kDiffusionStages; ++s) {
    std::array<const float*, kLines> delayed{};
    std::array<float*, kLines> next{};
    for (std::size_t k = 0; k < kLines; ++k) {
      delayed[k] = diffusion_[s][k].at(j0 - diffusion_delay_[s][k]);
      next[k] = s + 1 < kDiffusionStages ? diffusion_[s + 1][k].append(m) : diffused_[k];
    }
    hadamard16(delayed, diffusion_gain_[s], next, m);
  }

  // Feedback network: every line (each at least a block long) with one frame before it
  // for the absorption filter; sum the ears, absorb, mix, add the diffused input and
  // append to the line.
  float* late_l = late_[0].append(m);
  float* late_r = late_[1].append(m);
  std::fill(late_l, late_l + m, 0.0f);
  std::fill(late_r, late_r + m, 0.0f);
  const float* bias = bias_.data() + (j0 & 1u);
  for (std::size_t k = 0; k < kLines; ++k) {
    const float* x = lines_[k].at(j0 - line_delay_[k] - 1);
    float* y = line_out_[k];
    const float gl = out_left_[k], gr = out_right_[k];
    const float b0 = line_b0_[k], b1 = line_b1_[k];
    for (std::size_t i = 0; i < m; ++i) {
      const float now = x[i + 1];
      late_l[i] += gl * now;
      late_r[i] += gr * now;
      y[i] = b0 * now + b1 * x[i] + bias[i];
    }
  }
  hadamard16(line_out_, m);
  for (std::size_t k = 0; k < kLines; ++k) {
    const float* y = line_out_[k];
    const float* d = diffused_[k];
    float* w = lines_[k].append(m);
    for (std::size_t i = 0; i < m; ++i) w[i] = y[i] + d[i];
  }
}

}  // namespace sy::engine
