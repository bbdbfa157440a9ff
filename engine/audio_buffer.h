#pragma once
// Planar float audio storage used everywhere in the engine and the pipeline.
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "engine/audio_view.h"

namespace sy::engine {

// A fixed-size, planar, 32-byte aligned block of float samples. Allocates only in the
// constructor; copy is deleted so a block is never duplicated by accident. Processors see it
// through view(); it holds at most AudioView::kMaxChannels channels.
class AudioBuffer {
 public:
  AudioBuffer() = default;
  AudioBuffer(std::size_t channels, std::size_t frames);
  AudioBuffer(const AudioBuffer&) = delete;
  AudioBuffer& operator=(const AudioBuffer&) = delete;
  AudioBuffer(AudioBuffer&&) noexcept = default;
  AudioBuffer& operator=(AudioBuffer&&) noexcept = default;

  std::size_t num_channels() const noexcept { return channels_.size(); }
  std::size_t num_frames() const noexcept { return frames_; }

  float* channel(std::size_t c) noexcept { return channels_[c]; }
  const float* channel(std::size_t c) const noexcept { return channels_[c]; }
  std::span<float> span(std::size_t c) noexcept { return {channels_[c], frames_}; }
  std::span<const float> span(std::size_t c) const noexcept { return {channels_[c], frames_}; }

  AudioView view() noexcept { return {channels_.data(), channels_.size(), frames_}; }
  ConstAudioView view() const noexcept { return {channels_.data(), channels_.size(), frames_}; }

  // Pointer table for C-style APIs (float* const* planes).
  float* const* planes() noexcept { return channels_.data(); }
  const float* const* planes() const noexcept { return channels_.data(); }

  void clear() noexcept;

 private:
  struct FreeDeleter {
    void operator()(float* p) const noexcept;
  };
  std::unique_ptr<float, FreeDeleter> storage_;
  std::vector<float*> channels_;
  std::size_t frames_ = 0;
};

}  // namespace sy::engine
