#include "engine/source_encoder.h"

#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "engine/vector_clones.h"

namespace sy::engine {

namespace {

// Each of the two sources gets half the input, so mono material keeps its level.
constexpr float kSourceGain = 0.5f;
// The shared part (vocals center or narrow) is the mid (L + R) / 2 as one source: all of it.
constexpr float kSharedGain = 1.0f;
// vocals narrow: the shared part sways this far either side of the front.
constexpr double kNarrowArc = std::numbers::pi / 6;
constexpr std::size_t kStep = SourceEncoder::kGainStep;

// The ramp 0, 1, ..., kStep - 1 as floats, so the gain of each frame is one multiply-add.
alignas(64) constexpr auto kRamp = [] {
  std::array<float, kStep> r{};
  for (std::size_t i = 0; i < kStep; ++i) r[i] = static_cast<float>(i);
  return r;
}();

// One ambisonic channel of the pair over `points - 1` steps: the gains of each source are
// read every `stride` floats (one point after the other) and ramp linearly over a step.
SY_VECTOR_CLONES void encode_pair(float* __restrict dst, const float* __restrict a, const float* __restrict b,
                                  const float* gl, const float* gr, std::size_t stride, std::size_t points) noexcept {
  constexpr float kStepInv = 1.0f / static_cast<float>(kStep);
  for (std::size_t j = 0; j + 1 < points; ++j) {
    const float l0 = gl[j * stride], dl = (gl[(j + 1) * stride] - l0) * kStepInv;
    const float r0 = gr[j * stride], dr = (gr[(j + 1) * stride] - r0) * kStepInv;
    float* __restrict d = dst + j * kStep;
    const float* __restrict x = a + j * kStep;
    const float* __restrict y = b + j * kStep;
    for (std::size_t i = 0; i < kStep; ++i) d[i] = (l0 + dl * kRamp[i]) * x[i] + (r0 + dr * kRamp[i]) * y[i];
  }
}

// The same with the shared part as a third source, in one pass over the output.
SY_VECTOR_CLONES void encode_three(float* __restrict dst, const float* __restrict a, const float* __restrict b,
                                   const float* __restrict c, const float* gl, const float* gr, const float* gs,
                                   std::size_t stride, std::size_t points) noexcept {
  constexpr float kStepInv = 1.0f / static_cast<float>(kStep);
  for (std::size_t j = 0; j + 1 < points; ++j) {
    const float l0 = gl[j * stride], dl = (gl[(j + 1) * stride] - l0) * kStepInv;
    const float r0 = gr[j * stride], dr = (gr[(j + 1) * stride] - r0) * kStepInv;
    const float s0 = gs[j * stride], ds = (gs[(j + 1) * stride] - s0) * kStepInv;
    float* __restrict d = dst + j * kStep;
    const float* __restrict x = a + j * kStep;
    const float* __restrict y = b + j * kStep;
    const float* __restrict z = c + j * kStep;
    for (std::size_t i = 0; i < kStep; ++i)
      d[i] = ((l0 + dl * kRamp[i]) * x[i] + (r0 + dr * kRamp[i]) * y[i]) + (s0 + ds * kRamp[i]) * z[i];
  }
}

}  // namespace

SourceEncoder::SourceEncoder(const EngineSettings& settings, const MotionContext& motion)
    : settings_(settings),
      path_(make_motion_path(settings, motion)),
      width_(setting_over_time(settings.width_curve, settings.width_degrees, std::numbers::pi / 180.0)),
      sources_(settings.vocals == Vocals::kCircle ? 2 : 3),
      basis_(path_->elevated() ? AmbisonicBasis::kSphere : AmbisonicBasis::kHorizontal),
      channels_(ambisonic_channels(basis_)),
      shared_moves_(settings.vocals == Vocals::kNarrow),
      width_fixed_(width_.xs().size() == 1),
      cos_half_width_(std::cos(0.5 * width_.value(0))),
      sin_half_width_(std::sin(0.5 * width_.value(0))) {}

void SourceEncoder::prepare(double sample_rate, const std::vector<float>& loudness_correction, std::size_t block,
                            const std::vector<float>& side_gain) {
  if (block == 0 || block % kStep != 0) throw std::invalid_argument("encoder block must be a multiple of its gain step");
  if (loudness_correction.size() < channels_) throw std::invalid_argument("loudness correction has too few channels");
  if (!side_gain.empty() && side_gain.size() < channels_) throw std::invalid_argument("side gain has too few channels");
  side_gain_ = side_gain;
  sample_rate_ = sample_rate;
  points_ = block / kStep + 1;
  correction_ = loudness_correction;
  gains_.assign(kSources * points_ * channels_, 0.0f);
  if (sources_ == 3 && !shared_moves_) {
    // vocals center: the shared part stays in front, its gains never change.
    for (std::size_t j = 0; j < points_; ++j) {
      float* shared = gains(2, j);
      ambisonic_gains(basis_, DirectionCosines{}, shared);
      const float c = kSharedGain * correction_at(shared);
      for (std::size_t k = 0; k < channels_; ++k) shared[k] *= c;
    }
  }
}

// The direction-dependent loudness correction at the direction whose gains `g` holds.
float SourceEncoder::correction_at(const float* g) const noexcept {
  float c = 0;
  for (std::size_t k = 0; k < channels_; ++k) c += correction_[k] * g[k];
  return c;
}

float SourceEncoder::side_gain_at(const float* g) const noexcept {
  if (side_gain_.empty()) return 1.0f;
  float s = 0;
  for (std::size_t k = 0; k < channels_; ++k) s += side_gain_[k] * g[k];
  return s;
}

void SourceEncoder::compute_gains(std::int64_t start_frame) noexcept {
  for (std::size_t j = 0; j < points_; ++j) {
    const double t = (static_cast<double>(start_frame) + static_cast<double>(j * kStep)) / sample_rate_;
    const Bearing b = path_->at(t);
    // The pair sits either side of the centre: its directions are the centre's turned by
    // plus and minus half the width (angle addition; two sines and cosines per point, not six).
    const DirectionCosines centre = direction_cosines(b.azimuth, basis_ == AmbisonicBasis::kSphere ? b.elevation : 0.0);
    double cos_half = cos_half_width_, sin_half = sin_half_width_;
    if (!width_fixed_) {
      const double half_width = 0.5 * width_.value(t);
      cos_half = std::cos(half_width);
      sin_half = std::sin(half_width);
    }
    float* left = gains(0, j);
    float* right = gains(1, j);
    // The loudness correction depends on the centre: left holds its gains for a moment.
    ambisonic_gains(basis_, centre, left);
    const float c = kSourceGain * correction_at(left);
    const float sigma = side_gain_at(left);
    ambisonic_gains(basis_, turned(centre, cos_half, sin_half), left);
    ambisonic_gains(basis_, turned(centre, cos_half, -sin_half), right);
    // left L + right R = (sum)(L + R) / 2 + (difference)(L - R) / 2: sigma scales the side.
    for (std::size_t k = 0; k < channels_; ++k) {
      const float sum = left[k] + right[k], difference = sigma * (left[k] - right[k]);
      left[k] = 0.5f * c * (sum + difference);
      right[k] = 0.5f * c * (sum - difference);
    }
    if (sources_ == 3 && shared_moves_) {
      // vocals narrow: the shared part sways in front with the motion's left-right swing.
      float* shared = gains(2, j);
      ambisonic_gains(basis_, kNarrowArc * centre.sin_azimuth, 0.0, shared);
      const float cs = kSharedGain * correction_at(shared);
      for (std::size_t k = 0; k < channels_; ++k) shared[k] *= cs;
    }
  }
}

void SourceEncoder::process(std::int64_t start_frame, const float* left, const float* right, const float* shared,
                            AudioView sh) noexcept {
  compute_gains(start_frame);
  for (std::size_t k = 0; k < channels_; ++k) {
    if (sources_ == 3)
      encode_three(sh.channel(k), left, right, shared, gains(0, 0) + k, gains(1, 0) + k, gains(2, 0) + k, channels_,
                   points_);
    else
      encode_pair(sh.channel(k), left, right, gains(0, 0) + k, gains(1, 0) + k, channels_, points_);
  }
}

}  // namespace sy::engine
