#pragma once
// The room: early reflections and a late reverb that give the rotating sound distance and
// put it outside the head. Writes only the wet signal; the renderer adds it to the dry.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/processor.h"

namespace sy::engine {

struct RoomParams {
  double size = 0.5;     // 0..1: reflection spacing and reverberation time (see rt60_for_size)
  double damping = 0.5;  // 0..1: how much faster highs die than lows
  double wet = 0.25;     // 0..1: reverb level; at 1 a unit impulse gives about unit reverb energy
};

// Hand-written (Jot-style feedback delay network): Debian ships no reverb with a plain
// C/C++ processing API (Freeverb and friends come only inside plugin hosts).
//
// Early reflections: six taps per ear from a delay line of the input, different times and
// sources for each ear. Late reverb, run at half the sample rate (halfband decimation and
// interpolation; it holds nothing above a quarter of the rate that matters, and costs
// half): the input is spread over 16 channels and diffused by four stages of (different
// delay per channel, polarity flips, 16x16 Hadamard mix), so echo density is high from the
// start; then a feedback delay network of 16 lines of distinct prime lengths mixed by the
// Hadamard matrix, each with a two-tap absorption filter set so every line loses 60 dB in
// rt60 seconds at low frequencies and in rt60 * (1 - 0.8 * damping) at the top.
class Room final : public StereoProcessor {
 public:
  static constexpr std::size_t kLines = 16;
  static constexpr std::size_t kTapsPerEar = 6;
  static constexpr std::size_t kDiffusionStages = 4;
  // Halfband filter of the late part's rate change: 4 * kHalfbandPairs - 1 taps.
  static constexpr std::size_t kHalfbandPairs = 8;

  explicit Room(const RoomParams& params);

  void prepare(double sample_rate, std::size_t max_block_frames) override;
  void reset() noexcept override;
  void process(ConstAudioView in, AudioView out) noexcept override;
  // Frames until the late reverb has decayed by 60 dB (plus the pre-delay).
  std::size_t tail() const noexcept override { return tail_; }

  // Low-frequency reverberation time of the design, seconds.
  double rt60_seconds() const noexcept { return rt60_; }
  // High-frequency (Nyquist) reverberation time of the design, seconds.
  double rt60_high_seconds() const noexcept { return rt60_high_; }
  static double rt60_for_size(double size) noexcept { return 0.3 + 2.7 * size; }

 private:
  // A delay line addressed by absolute frame index whose recent history is always
  // contiguous: samples are appended to a linear buffer, and when it fills up the last
  // `lookback` samples move to its front (rarely: the buffer holds several times that).
  // Readers get pointers, writers fill the appended span in place, so nothing is copied
  // per block.
  class Delay {
   public:
    // Reads reach at most `lookback` frames behind the newest frame written.
    void allocate(std::size_t lookback, std::size_t max_block);
    void clear() noexcept;
    // Room for the next n frames (absolute indices written() .. written() + n - 1); the
    // caller fills all of them before reading them.
    float* append(std::size_t n) noexcept;
    // The frame at absolute index `index` (indices before 0 read zeros) and those after it.
    const float* at(std::size_t index) const noexcept { return buffer_.data() + pos_ - (written_ - index); }
    std::size_t written() const noexcept { return written_; }

   private:
    std::vector<float> buffer_;
    std::size_t lookback_ = 0;
    std::size_t pos_ = 0;  // buffer position of frame written_
    std::size_t written_ = 0;
  };

  struct Tap {
    std::size_t delay = 0;
    float gain = 0;
    int source = 0;  // input channel
  };

  void process_block(const float* left, const float* right, float* out_left, float* out_right,
                     std::size_t n) noexcept;
  // The late reverb for half-rate frames [j0, j0 + m); appends to late_.
  void process_late(std::size_t j0, std::size_t m) noexcept;

  RoomParams params_;
  double rt60_ = 0, rt60_high_ = 0;
  std::size_t tail_ = 0;
  std::size_t block_ = 1;  // internal block (full rate): at most two of the shortest line

  // Input history for early reflections and the late reverb's pre-delay.
  std::array<Delay, 2> input_;
  std::size_t late_delay_ = 0;  // pre-delay minus the halfband filters' delay
  std::array<std::array<Tap, kTapsPerEar>, 2> taps_{};
  float early_pole_ = 0;
  std::array<float, 2> early_state_{};

  // Halfband odd taps (the centre tap is 1/2, even taps are 0).
  std::array<float, kHalfbandPairs> halfband_{};

  std::array<std::array<Delay, kLines>, kDiffusionStages> diffusion_;
  std::array<std::array<std::size_t, kLines>, kDiffusionStages> diffusion_delay_{};
  std::array<std::array<float, kLines>, kDiffusionStages> diffusion_gain_{};  // sign / 4

  std::array<Delay, kLines> lines_;
  std::array<std::size_t, kLines> line_delay_{};
  std::array<float, kLines> line_b0_{}, line_b1_{};  // absorption g (c0 + c1 z^-1) / 4
  std::array<float, kLines> in_left_{}, in_right_{}, out_left_{}, out_right_{};
  std::array<Delay, 2> late_;  // half-rate late output per ear, scaled by wet
  std::vector<float> bias_;         // alternating +-1e-20 keeps recursive state out of denormals

  // Scratch, allocated in prepare(): 16 diffusion channels, 16 line outputs, and per ear
  // early reflections, decimation and interpolation buffers.
  std::vector<float> scratch_;
  std::array<float*, kLines> diffused_{};
  std::array<float*, kLines> line_out_{};
  float* early_[2] = {nullptr, nullptr};
  float* even_[2] = {nullptr, nullptr};   // its even and odd samples
  float* odd_[2] = {nullptr, nullptr};
  float* half_[2] = {nullptr, nullptr};   // half-rate signal
};

}  // namespace sy::engine
