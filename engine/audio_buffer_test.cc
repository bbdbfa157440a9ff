#include "engine/audio_buffer.h"

#include <cstdint>

#include <gtest/gtest.h>

namespace sy::engine {
namespace {

TEST(AudioBufferTest, ChannelsAreZeroedAlignedAndDistinct) {
  AudioBuffer buffer(2, 1001);
  ASSERT_EQ(buffer.num_channels(), 2u);
  ASSERT_EQ(buffer.num_frames(), 1001u);
  for (std::size_t c = 0; c < 2; ++c) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buffer.channel(c)) % 32, 0u);
    for (float v : buffer.span(c)) EXPECT_EQ(v, 0.0f);
  }
  buffer.channel(0)[1000] = 1.0f;
  EXPECT_EQ(buffer.channel(1)[1000], 0.0f);
  buffer.clear();
  EXPECT_EQ(buffer.channel(0)[1000], 0.0f);
}

TEST(AudioBufferTest, MoveKeepsSamples) {
  AudioBuffer a(1, 16);
  a.channel(0)[3] = 0.5f;
  AudioBuffer b = std::move(a);
  EXPECT_EQ(b.channel(0)[3], 0.5f);
}

}  // namespace
}  // namespace sy::engine
