#pragma once
// The contract between the streaming pipeline and every stereo processing stage.
#include <cstddef>

#include "engine/audio_view.h"

namespace sy::engine {

// A stereo stage that runs in fixed-size blocks.
//
// prepare() may allocate; process() never allocates (engine_allocation_tests proves it for
// every processor), never throws and never blocks.
// latency() is the delay (in frames) between a sample going in and coming out; the
// pipeline trims it from the start and flushes it at the end by feeding silence.
// tail() is how many extra frames of silence let the stage ring out (reverb tail);
// the pipeline feeds them only when the user asks to keep the tail.
class StereoProcessor {
 public:
  virtual ~StereoProcessor() = default;

  virtual void prepare(double sample_rate, std::size_t max_block_frames) = 0;
  virtual void reset() noexcept = 0;
  // in and out hold two channels of the same number of frames, at most max_block_frames.
  // They may be the same planes (in-place processing).
  virtual void process(ConstAudioView in, AudioView out) noexcept = 0;
  virtual std::size_t latency() const noexcept { return 0; }
  virtual std::size_t tail() const noexcept { return 0; }
};

// The trivial stage: a fixed gain. Used by the foundation pipeline and tests.
class GainProcessor final : public StereoProcessor {
 public:
  explicit GainProcessor(float gain) : gain_(gain) {}
  void prepare(double, std::size_t) override {}
  void reset() noexcept override {}
  void process(ConstAudioView in, AudioView out) noexcept override {
    for (std::size_t c = 0; c < 2; ++c) {
      const float* x = in.channel(c);
      float* y = out.channel(c);
      for (std::size_t i = 0; i < out.num_frames(); ++i) y[i] = x[i] * gain_;
    }
  }
  void set_gain(float g) noexcept { gain_ = g; }

 private:
  float gain_;
};

}  // namespace sy::engine
