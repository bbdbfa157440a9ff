#include "engine/source_encoder.h"

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

#include "engine/audio_buffer.h"

namespace sy::engine {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kRate = 48000.0;
constexpr std::size_t kBlock = 512;

TEST(SphericalHarmonicsTest, TurningByAngleAdditionGivesTheGainsOfTheTurnedDirection) {
  for (AmbisonicBasis basis : {AmbisonicBasis::kHorizontal, AmbisonicBasis::kSphere}) {
    const std::size_t n = ambisonic_channels(basis);
    for (double azimuth : {-3.0, -0.4, 0.0, 1.2, 2.9}) {
      for (double elevation : {-0.6, 0.0, 0.35}) {
        for (double angle : {-1.1, 0.3, 1.5}) {
          std::vector<float> direct(n), turned_gains(n);
          ambisonic_gains(basis, azimuth + angle, elevation, direct.data());
          ambisonic_gains(basis, turned(direction_cosines(azimuth, elevation), std::cos(angle), std::sin(angle)),
                          turned_gains.data());
          for (std::size_t k = 0; k < n; ++k) EXPECT_NEAR(turned_gains[k], direct[k], 1e-6) << k;
        }
      }
    }
  }
}

// Encodes constant inputs (1 on the source under test, 0 on the others) for `blocks` blocks
// and returns the channels.
std::vector<AudioBuffer> encode(SourceEncoder& encoder, std::size_t source, std::size_t blocks) {
  std::vector<float> one(kBlock, 1.0f), zero(kBlock, 0.0f);
  const float* in[3] = {zero.data(), zero.data(), zero.data()};
  in[source] = one.data();
  std::vector<AudioBuffer> out;
  for (std::size_t b = 0; b < blocks; ++b) {
    out.emplace_back(encoder.channels(), kBlock);
    encoder.process(static_cast<std::int64_t>(b * kBlock), in[0], in[1], in[2], out.back().view());
  }
  return out;
}

// With an omnidirectional loudness correction (1 on channel 0) the left source's channels
// are half the gains of its direction: the centre plus half the width, at each gain point.
TEST(SourceEncoderTest, TheLeftSourceFollowsThePathHalfTheWidthAway) {
  EngineSettings s;
  s.period_seconds = 4;
  s.direction = Direction::kCounterClockwise;
  s.width_degrees = 60;
  s.elevation_degrees = 20;
  SourceEncoder encoder(s, {});
  ASSERT_EQ(encoder.basis(), AmbisonicBasis::kSphere);
  std::vector<float> correction(encoder.channels(), 0.0f);
  correction[0] = 1.0f;
  encoder.prepare(kRate, correction, kBlock);
  const auto blocks = encode(encoder, 0, 20);
  const auto path = make_motion_path(s);
  std::vector<float> want(encoder.channels());
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    for (std::size_t i = 0; i < kBlock; i += SourceEncoder::kGainStep) {
      const Bearing at = path->at(static_cast<double>(b * kBlock + i) / kRate);
      ambisonic_gains(encoder.basis(), at.azimuth + kPi / 6, at.elevation, want.data());
      for (std::size_t k = 0; k < encoder.channels(); ++k)
        ASSERT_NEAR(blocks[b].channel(k)[i], 0.5f * want[k], 1e-5) << "block " << b << " frame " << i;
    }
  }
}

TEST(SourceEncoderTest, TheSharedPartStaysInFrontWithVocalsCenter) {
  EngineSettings s;
  s.vocals = Vocals::kCenter;
  SourceEncoder encoder(s, {});
  ASSERT_EQ(encoder.sources(), 3u);
  std::vector<float> correction(encoder.channels(), 0.0f);
  correction[0] = 1.0f;
  encoder.prepare(kRate, correction, kBlock);
  std::vector<float> front(encoder.channels());
  ambisonic_gains(encoder.basis(), 0.0, 0.0, front.data());
  for (const AudioBuffer& block : encode(encoder, 2, 10))
    for (std::size_t k = 0; k < encoder.channels(); ++k)
      for (std::size_t i = 0; i < kBlock; ++i) ASSERT_FLOAT_EQ(block.channel(k)[i], front[k]);
}

TEST(SourceEncoderTest, BlocksMustHoldWholeGainSteps) {
  SourceEncoder encoder(EngineSettings{}, {});
  std::vector<float> correction(encoder.channels(), 0.0f);
  EXPECT_THROW(encoder.prepare(kRate, correction, 500), std::invalid_argument);
}

}  // namespace
}  // namespace sy::engine
