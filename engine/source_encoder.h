#pragma once
// The moving sources, encoded into ambisonics: the song's left and right as a pair either
// side of the motion path's centre (the width apart), and, with vocals center or narrow,
// what the two channels share as a third source in front or swaying on a narrow arc.
//
// Gains are computed exactly every kGainStep frames and interpolated linearly between, so
// the encoding is as smooth as the path (no zipper) at a small fraction of the cost of
// exact per-sample gains.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/audio_view.h"
#include "engine/curve.h"
#include "engine/settings.h"
#include "engine/spherical_harmonics.h"
#include "engine/trajectory.h"

namespace sy::engine {

class SourceEncoder {
 public:
  static constexpr std::size_t kGainStep = 32;

  SourceEncoder(const EngineSettings& settings, const MotionContext& motion);

  // Horizontal while the path stays level; the full sphere when it rises.
  AmbisonicBasis basis() const noexcept { return basis_; }
  std::size_t channels() const noexcept { return channels_; }
  // 2: the song's left and right; 3: and the shared part.
  std::size_t sources() const noexcept { return sources_; }

  // `loudness_correction` and `side_gain` are the decoder's (BinauralFilters; an empty
  // side gain is 1). `block` must be a multiple of kGainStep. Allocates.
  void prepare(double sample_rate, const std::vector<float>& loudness_correction, std::size_t block,
               const std::vector<float>& side_gain = {});

  // Encodes block() frames of the pair (`left`, `right`) and, with three sources, of
  // `shared` into `sh` (channels() channels). `start_frame` is where the first frame was in
  // the input (negative while a latency is being filled): the motion at that moment.
  void process(std::int64_t start_frame, const float* left, const float* right, const float* shared,
               AudioView sh) noexcept;

 private:
  static constexpr std::size_t kSources = 3;

  float correction_at(const float* g) const noexcept;
  float side_gain_at(const float* g) const noexcept;
  void compute_gains(std::int64_t start_frame) noexcept;
  float* gains(std::size_t source, std::size_t point) noexcept {
    return gains_.data() + (source * points_ + point) * channels_;
  }

  EngineSettings settings_;
  std::unique_ptr<MotionPath> path_;
  MonotoneCubic width_;  // radians over time
  std::size_t sources_;
  AmbisonicBasis basis_;
  std::size_t channels_;
  bool shared_moves_;  // vocals narrow: the shared part's gains follow the path
  bool width_fixed_;   // no width curve: the pair's half angle is taken once
  double cos_half_width_, sin_half_width_;

  double sample_rate_ = 48000.0;
  std::size_t points_ = 0;
  std::vector<float> correction_;
  std::vector<float> side_gain_;  // empty: 1
  std::vector<float> gains_;  // source x point x channel
};

}  // namespace sy::engine
