#include "engine/audio_buffer.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace sy::engine {

namespace {
constexpr std::size_t kAlignFloats = 8;  // 32 bytes
std::size_t padded(std::size_t frames) { return (frames + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }
}  // namespace

void AudioBuffer::FreeDeleter::operator()(float* p) const noexcept { std::free(p); }

AudioBuffer::AudioBuffer(std::size_t channels, std::size_t frames) : frames_(frames) {
  if (channels > AudioView::kMaxChannels) throw std::invalid_argument("audio buffer: more channels than a view holds");
  const std::size_t stride = padded(frames);
  const std::size_t bytes = std::max<std::size_t>(1, channels * stride) * sizeof(float);
  void* mem = std::aligned_alloc(32, (bytes + 31) / 32 * 32);
  if (mem == nullptr) throw std::bad_alloc();
  storage_.reset(static_cast<float*>(mem));
  channels_.resize(channels);
  for (std::size_t c = 0; c < channels; ++c) channels_[c] = storage_.get() + c * stride;
  clear();
}

void AudioBuffer::clear() noexcept {
  for (float* ch : channels_) std::memset(ch, 0, frames_ * sizeof(float));
}

}  // namespace sy::engine
