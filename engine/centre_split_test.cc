#include "engine/centre_split.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "engine/audio_buffer.h"

namespace sy::engine {
namespace {

constexpr double kRate = 48000.0;
constexpr std::size_t kHop = CentreSplit::kHop;

struct Parts {
  std::vector<float> shared, side_l, side_r;
};

Parts split(const std::vector<float>& l, const std::vector<float>& r) {
  CentreSplit splitter;
  splitter.prepare(kRate);
  AudioBuffer in(2, kHop), side(2, kHop);
  std::vector<float> shared(kHop);
  Parts out;
  for (std::size_t at = 0; at + kHop <= l.size(); at += kHop) {
    std::copy(l.begin() + static_cast<std::ptrdiff_t>(at), l.begin() + static_cast<std::ptrdiff_t>(at + kHop),
              in.channel(0));
    std::copy(r.begin() + static_cast<std::ptrdiff_t>(at), r.begin() + static_cast<std::ptrdiff_t>(at + kHop),
              in.channel(1));
    splitter.process(std::as_const(in).view(), shared.data(), side.view());
    out.shared.insert(out.shared.end(), shared.begin(), shared.end());
    out.side_l.insert(out.side_l.end(), side.channel(0), side.channel(0) + kHop);
    out.side_r.insert(out.side_r.end(), side.channel(1), side.channel(1) + kHop);
  }
  return out;
}

double energy(const std::vector<float>& x, std::size_t from) {
  double e = 0;
  for (std::size_t i = from; i < x.size(); ++i) e += double{x[i]} * double{x[i]};
  return e;
}

std::vector<float> noise(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 0.1f);
  std::vector<float> x(n);
  for (float& v : x) v = g(rng);
  return x;
}

// A "voice" (a mono signal in both channels: harmonics of 220 Hz that come and go in
// syllables of 200 ms, as sung vowels do) over an uncorrelated stereo bed of noise.
struct Mix {
  std::vector<float> voice, bed_l, bed_r, l, r;
};
Mix mix(std::size_t n) {
  Mix m{std::vector<float>(n), noise(n, 2), noise(n, 3), {}, {}};
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / kRate;
    double v = 0;
    for (int k = 1; k <= 15; ++k) v += 0.1 / k * std::sin(2 * 3.14159265 * 220 * k * t + k);
    m.voice[i] = static_cast<float>(v * (0.5 + 0.5 * std::sin(2 * 3.14159265 * 2.5 * t)));
    m.l.push_back(m.voice[i] + 0.5f * m.bed_l[i]);
    m.r.push_back(m.voice[i] + 0.5f * m.bed_r[i]);
  }
  return m;
}

TEST(CentreSplitTest, SharedPlusSideRebuildTheInput) {
  const std::size_t n = 200 * kHop;
  const Mix m = mix(n);
  const Parts p = split(m.l, m.r);
  CentreSplit probe;
  const std::size_t delay = probe.latency();
  double error = 0, reference = 0;
  for (std::size_t i = delay; i < n; ++i) {
    const double l = m.l[i - delay], r = m.r[i - delay];
    const double el = double{p.shared[i]} + double{p.side_l[i]} - l, er = double{p.shared[i]} + double{p.side_r[i]} - r;
    error += el * el + er * er;
    reference += l * l + r * r;
  }
  const double null_db = 10 * std::log10(error / reference);
  std::printf("shared + side against the input: %.1f dB\n", null_db);
  EXPECT_LE(null_db, -60.0);
}

TEST(CentreSplitTest, TheSharedPartIsWhatBothChannelsCarry) {
  const std::size_t n = 400 * kHop;
  const std::size_t settle = 20 * kHop;
  // Mono: all of it is shared.
  const auto mono = noise(n, 4);
  const Parts all = split(mono, mono);
  const double mono_side = 10 * std::log10(energy(all.side_l, settle) / energy(mono, settle));
  // Two unrelated channels: almost none of it.
  const auto l = noise(n, 5), r = noise(n, 6);
  const Parts none = split(l, r);
  const double noise_shared = 10 * std::log10(2 * energy(none.shared, settle) / (energy(l, settle) + energy(r, settle)));
  // A voice over a stereo bed: the shared part is mostly the voice.
  const Mix m = mix(n);
  const Parts voice = split(m.l, m.r);
  CentreSplit probe;
  const std::size_t delay = probe.latency();
  double voice_in_shared = 0, error = 0, mid_error = 0;
  for (std::size_t i = settle; i < n; ++i) {
    const double v = m.voice[i - delay];
    const double mid = 0.5 * (double{m.l[i - delay]} + double{m.r[i - delay]});
    voice_in_shared += v * v;
    error += (double{voice.shared[i]} - v) * (double{voice.shared[i]} - v);
    mid_error += (mid - v) * (mid - v);
  }
  const double voice_error = 10 * std::log10(error / voice_in_shared);
  const double mid_voice_error = 10 * std::log10(mid_error / voice_in_shared);
  std::printf("the plain mid (L + R) / 2 holds the voice with %.1f dB error\n", mid_voice_error);
  std::printf("side of mono %.1f dB, shared of uncorrelated noise %.1f dB, voice read from the mix with %.1f dB error\n",
              mono_side, noise_shared, voice_error);
  EXPECT_LT(mono_side, -40.0);
  EXPECT_LT(noise_shared, -10.0);
  EXPECT_LT(voice_error, -10.0);
  EXPECT_LT(voice_error, mid_voice_error - 6.0);  // it parts the voice from the bed, not just sums
}

TEST(CentreSplitTest, ResetForgetsThePast) {
  const Mix m = mix(40 * kHop);
  const Parts a = split(m.l, m.r);
  CentreSplit splitter;
  splitter.prepare(kRate);
  AudioBuffer in(2, kHop), side(2, kHop);
  std::vector<float> shared(kHop);
  const auto loud = noise(kHop, 9);
  for (int i = 0; i < 10; ++i) {
    std::copy(loud.begin(), loud.end(), in.channel(0));
    splitter.process(std::as_const(in).view(), shared.data(), side.view());
  }
  splitter.reset();
  for (std::size_t at = 0; at + kHop <= m.l.size(); at += kHop) {
    std::copy(m.l.begin() + static_cast<std::ptrdiff_t>(at), m.l.begin() + static_cast<std::ptrdiff_t>(at + kHop),
              in.channel(0));
    std::copy(m.r.begin() + static_cast<std::ptrdiff_t>(at), m.r.begin() + static_cast<std::ptrdiff_t>(at + kHop),
              in.channel(1));
    splitter.process(std::as_const(in).view(), shared.data(), side.view());
    for (std::size_t i = 0; i < kHop; ++i) ASSERT_EQ(shared[i], a.shared[at + i]) << at + i;
  }
}

}  // namespace
}  // namespace sy::engine
