#pragma once
// A non-owning window onto planar float audio: channels x frames, read-only or writable.
#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>

namespace sy::engine {

// What every processor's process() takes, so no caller builds `const float* const*` tables
// by hand. The channel pointers live inside the view (like a span of them, but owned by
// value), so a view of any planes can be made without a table that outlives it, and
// slice() moves every channel at once. Copying one is copying a few pointers: pass by value.
//
// T is float (AudioView, writable) or const float (ConstAudioView); a writable view
// converts to a read-only one. Views of the same frames may alias (in-place processing).
template <class T>
class BasicAudioView {
  static_assert(std::is_same_v<std::remove_const_t<T>, float>, "planar float audio only");

 public:
  // Third-order ambisonics on the sphere, the widest signal in the engine.
  static constexpr std::size_t kMaxChannels = 16;

  BasicAudioView() = default;

  // From a C-style table of `num_channels` planes, each holding `frames` samples.
  BasicAudioView(T* const* planes, std::size_t num_channels, std::size_t frames) noexcept
      : channels_(std::min(num_channels, kMaxChannels)), frames_(frames) {
    assert(num_channels <= kMaxChannels);
    std::copy_n(planes, channels_, planes_);
  }

  // From a list of planes: ConstAudioView({left.data(), right.data()}, frames).
  template <std::size_t N>
  BasicAudioView(T* const (&planes)[N], std::size_t frames) noexcept : channels_(N), frames_(frames) {
    static_assert(N <= kMaxChannels, "more channels than a view holds");
    std::copy_n(planes, N, planes_);
  }

  // A writable view reads as a read-only one.
  template <class U>
    requires(std::is_const_v<T> && std::is_same_v<const U, T>)
  BasicAudioView(const BasicAudioView<U>& other) noexcept  // NOLINT(google-explicit-constructor)
      : channels_(other.num_channels()), frames_(other.num_frames()) {
    std::copy_n(other.data(), channels_, planes_);
  }

  std::size_t num_channels() const noexcept { return channels_; }
  std::size_t num_frames() const noexcept { return frames_; }
  bool empty() const noexcept { return frames_ == 0; }

  T* channel(std::size_t c) const noexcept {
    assert(c < channels_);
    return planes_[c];
  }
  std::span<T> span(std::size_t c) const noexcept { return {channel(c), frames_}; }
  // The channel pointers, for C-style APIs (the decoder's read(), the encoder's write()).
  T* const* data() const noexcept { return planes_; }

  // Frames [offset, offset + frames) of every channel.
  BasicAudioView slice(std::size_t offset, std::size_t frames) const noexcept {
    assert(offset + frames <= frames_);
    BasicAudioView v = *this;
    for (std::size_t c = 0; c < channels_; ++c) v.planes_[c] += offset;
    v.frames_ = frames;
    return v;
  }
  // The first `frames` frames.
  BasicAudioView first(std::size_t frames) const noexcept { return slice(0, frames); }

  // Writes zeros (writable views only).
  void clear() const noexcept
    requires(!std::is_const_v<T>)
  {
    for (std::size_t c = 0; c < channels_; ++c) std::memset(planes_[c], 0, frames_ * sizeof(float));
  }
  // Copies `from` (same channel count, at most num_frames() frames) to the start of this view.
  void copy_from(const BasicAudioView<const float>& from) const noexcept
    requires(!std::is_const_v<T>)
  {
    assert(from.num_channels() == channels_ && from.num_frames() <= frames_);
    for (std::size_t c = 0; c < channels_; ++c)
      std::memmove(planes_[c], from.channel(c), from.num_frames() * sizeof(float));
  }

 private:
  T* planes_[kMaxChannels] = {};
  std::size_t channels_ = 0;
  std::size_t frames_ = 0;
};

using AudioView = BasicAudioView<float>;
using ConstAudioView = BasicAudioView<const float>;

}  // namespace sy::engine
