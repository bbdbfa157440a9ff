#pragma once
// The room: early reflections and a late reverb that give the rotating sound distance and
// put it outside the head. Writes only the wet signal; the renderer adds it to the dry.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/processor.h"

namespace sy {

struct RoomParams {
  double size = 0.5;     // 0..1: reflection spacing and reverberation time (see rt60_for_size)
  double damping = 0.5;  // 0..1: how much faster highs die than lows
  double wet = 0.25;     // 0..1: reverb level; at 1 a unit impulse gives about unit reverb energy
};

// Hand-written (Jot-style feedback delay network): Debian ships no reverb with a plain
// C/C++ processing API (Freeverb and friends come only inside plugin hosts).
//
// Early reflections: six taps per ear from a delay line of the input, different times and
// sources for each ear. Late reverb: the input is spread over 16 channels and diffused by
// four stages of (different delay per channel, polarity flips, 16x16 Hadamard mix), so
// echo density is high from the start; then a feedback delay network of 16 lines of
// distinct prime lengths mixed by the Hadamard matrix, each with a one-pole absorption
// filter set so every line loses 60 dB in rt60 seconds at low frequencies and in
// rt60 * (1 - 0.8 * damping) at the top.
class Room final : public StereoProcessor {
 public:
  static constexpr std::size_t kLines = 16;
  static constexpr std::size_t kTapsPerEar = 6;
  static constexpr std::size_t kDiffusionStages = 4;

  explicit Room(const RoomParams& params);

  void prepare(double sample_rate, std::size_t max_block_frames) override;
  void reset() noexcept override;
  void process(const float* const* in, float* const* out, std::size_t frames) noexcept override;
  // Frames until the late reverb has decayed by 60 dB (plus the pre-delay).
  std::size_t tail() const noexcept override { return tail_; }

  // Low-frequency reverberation time of the design, seconds.
  double rt60_seconds() const noexcept { return rt60_; }
  // High-frequency (Nyquist) reverberation time of the design, seconds.
  double rt60_high_seconds() const noexcept { return rt60_high_; }
  static double rt60_for_size(double size) noexcept { return 0.3 + 2.7 * size; }

 private:
  struct Tap {
    std::size_t delay = 0;
    float gain = 0;
    int source = 0;  // input channel
  };
  struct Delay {
    std::size_t offset = 0;  // into the shared buffer
    std::size_t length = 0;
    std::size_t pos = 0;
  };
  struct Line {
    std::size_t offset = 0;  // into lines_
    std::size_t length = 0;
    std::size_t pos = 0;
    float gain = 1;          // broadband loss per pass
    float pole = 0;          // one-pole absorption filter
    float state = 0;
  };

  RoomParams params_;
  double rt60_ = 0, rt60_high_ = 0;
  std::size_t tail_ = 0;

  // Input history for early reflections and the late reverb's pre-delay.
  std::array<std::vector<float>, 2> input_;
  std::size_t input_pos_ = 0;
  std::size_t predelay_ = 0;
  std::array<std::array<Tap, kTapsPerEar>, 2> taps_{};
  float early_pole_ = 0;
  std::array<float, 2> early_state_{};

  std::vector<float> diffusion_buffer_;
  std::array<std::array<Delay, kLines>, kDiffusionStages> diffusion_{};

  std::vector<float> lines_;
  std::array<Line, kLines> line_{};
  std::array<float, kLines> in_left_{}, in_right_{}, out_left_{}, out_right_{};
  float late_gain_ = 0;
  float wet_ = 0;
  float bias_ = 0;  // alternating 1e-20 offset keeps recursive state out of denormals
};

}  // namespace sy
