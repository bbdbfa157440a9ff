#include "engine/room.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <numeric>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "engine/crossover.h"
#include "engine/testing/analysis.h"

namespace sy::engine {
namespace {

constexpr double kRate = 44100.0;
constexpr std::size_t kBlock = 512;

using testing::Stereo;

// Runs `left`/`right` through `room` in fixed blocks.
Stereo run(Room& room, const std::vector<float>& left, const std::vector<float>& right,
           std::size_t block = kBlock) {
  Stereo out{std::vector<float>(left.size()), std::vector<float>(left.size())};
  const ConstAudioView in({left.data(), right.data()}, left.size());
  const AudioView o({out.left.data(), out.right.data()}, left.size());
  for (std::size_t pos = 0; pos < left.size(); pos += block) {
    const std::size_t n = std::min(block, left.size() - pos);
    room.process(in.slice(pos, n), o.slice(pos, n));
  }
  return out;
}

// Impulse on both inputs (a centred source), response of `seconds` length.
Stereo impulse_response(const RoomParams& params, double seconds, double rate = kRate) {
  Room room(params);
  room.prepare(rate, kBlock);
  std::vector<float> impulse(static_cast<std::size_t>(seconds * rate), 0.0f);
  impulse[0] = 1.0f;
  return run(room, impulse, impulse);
}

// Reverberation time from the Schroeder energy decay curve: straight-line fit between
// -5 and -25 dB (T20), extrapolated to 60 dB.
double measure_rt60(const std::vector<float>& a, const std::vector<float>& b, double rate = kRate) {
  std::vector<double> edc(a.size());
  double acc = 0;
  for (std::size_t i = a.size(); i-- > 0;) {
    acc += static_cast<double>(a[i]) * static_cast<double>(a[i]) + static_cast<double>(b[i]) * static_cast<double>(b[i]);
    edc[i] = acc;
  }
  const double total = edc[0];
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < edc.size(); ++i) {
    const double db = 10.0 * std::log10(edc[i] / total);
    if (db > -5.0) continue;
    if (db < -25.0) break;
    const double t = static_cast<double>(i) / rate;
    sx += t;
    sy += db;
    sxx += t * t;
    sxy += t * db;
    ++n;
  }
  const double slope = (static_cast<double>(n) * sxy - sx * sy) / (static_cast<double>(n) * sxx - sx * sx);
  return -60.0 / slope;
}

double energy(const std::vector<float>& x, std::size_t from = 0, std::size_t to = SIZE_MAX) {
  double e = 0;
  for (std::size_t i = from; i < std::min(to, x.size()); ++i) e += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return e;
}

double correlation(const std::vector<float>& a, const std::vector<float>& b, std::size_t from, std::size_t to) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = from; i < to; ++i) {
    ab += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    aa += static_cast<double>(a[i]) * static_cast<double>(a[i]);
    bb += static_cast<double>(b[i]) * static_cast<double>(b[i]);
  }
  return ab / std::sqrt(aa * bb);
}

std::vector<float> band(const std::vector<float>& x, double cutoff, bool high) {
  LinkwitzRiley4 xo;
  xo.prepare(kRate, cutoff);
  std::vector<float> low(x.size()), hi(x.size());
  xo.process(x, low, hi);
  return high ? hi : low;
}

TEST(RoomTest, ReverberationTimeMatchesTheDesign) {
  for (double size : {0.0, 0.2, 0.5, 0.9}) {
    RoomParams p;
    p.size = size;
    p.damping = 0.0;
    p.wet = 1.0;
    const Room room(p);
    const double design = room.rt60_seconds();
    const Stereo ir = impulse_response(p, design * 1.2);
    const double measured = measure_rt60(ir.left, ir.right);
    EXPECT_NEAR(measured, design, 0.25 * design) << "size " << size;
    RecordProperty("rt60_size_" + std::to_string(static_cast<int>(size * 10)), std::to_string(measured));
  }
}

TEST(RoomTest, DampingShortensTheHighsButNotTheLows) {
  RoomParams p;
  p.size = 0.5;
  p.damping = 0.7;
  p.wet = 1.0;
  const Room room(p);
  const Stereo ir = impulse_response(p, room.rt60_seconds() * 1.2);
  const double low = measure_rt60(band(ir.left, 500.0, false), band(ir.right, 500.0, false));
  const double high = measure_rt60(band(ir.left, 6000.0, true), band(ir.right, 6000.0, true));
  EXPECT_NEAR(low, room.rt60_seconds(), 0.25 * room.rt60_seconds());
  EXPECT_LT(high, 0.8 * low);
  EXPECT_GT(high, room.rt60_high_seconds() * 0.75);
}

TEST(RoomTest, RunsAtFortyEightKilohertzWithTheSameDecay) {
  RoomParams p;
  p.damping = 0.0;
  p.wet = 1.0;
  const Room room(p);
  const Stereo ir = impulse_response(p, room.rt60_seconds() * 1.2, 48000.0);
  EXPECT_NEAR(measure_rt60(ir.left, ir.right, 48000.0), room.rt60_seconds(), 0.25 * room.rt60_seconds());
}

TEST(RoomTest, TailIsDecorrelatedBetweenTheEars) {
  RoomParams p;
  p.wet = 1.0;
  const Stereo ir = impulse_response(p, 1.5);
  // Late part of the impulse response of a centred (L = R) source.
  const double r_tail = correlation(ir.left, ir.right, static_cast<std::size_t>(0.08 * kRate), ir.left.size());
  EXPECT_LT(std::abs(r_tail), 0.3);

  // Continuous mono noise: the whole wet output (early + late).
  std::mt19937 rng(9);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  std::vector<float> mono(5 * static_cast<std::size_t>(kRate));
  for (float& v : mono) v = noise(rng);
  Room room(p);
  room.prepare(kRate, kBlock);
  const Stereo out = run(room, mono, mono);
  const double r_noise = correlation(out.left, out.right, static_cast<std::size_t>(kRate), out.left.size());
  EXPECT_LT(std::abs(r_noise), 0.3);
}

TEST(RoomTest, LateReverbHasNoPeriodicRinging) {
  // A metallic reverb repeats itself: its late response correlates with a delayed copy of
  // itself at the loop period. Check every lag from 0.5 to 100 ms.
  RoomParams p;
  p.wet = 1.0;
  p.damping = 0.0;
  const Stereo ir = impulse_response(p, 0.9);
  const std::size_t from = static_cast<std::size_t>(0.15 * kRate);
  const std::size_t len = static_cast<std::size_t>(0.5 * kRate);
  // Normalise out the decay so early samples do not dominate.
  std::vector<double> x(len);
  const double tau = Room(p).rt60_seconds() / std::log(1e3);
  for (std::size_t i = 0; i < len; ++i) {
    x[i] = static_cast<double>(ir.left[from + i]) * std::exp(static_cast<double>(from + i) / kRate / tau);
  }
  double x0 = 0;
  for (double v : x) x0 += v * v;
  double worst = 0;
  std::size_t worst_lag = 0;
  const std::size_t window = static_cast<std::size_t>(0.3 * kRate);
  for (std::size_t lag = static_cast<std::size_t>(0.0005 * kRate); lag <= static_cast<std::size_t>(0.1 * kRate); ++lag) {
    double acc = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < window; ++i) {
      acc += x[i] * x[i + lag];
      aa += x[i] * x[i];
      bb += x[i + lag] * x[i + lag];
    }
    const double r = std::abs(acc) / std::sqrt(aa * bb);
    if (r > worst) {
      worst = r;
      worst_lag = lag;
    }
  }
  EXPECT_LT(worst, 0.2) << "at lag " << worst_lag << " frames";
}

TEST(RoomTest, EchoDensityIsGaussianAfterTheEarlyPart) {
  // Sparse echoes give a heavy-tailed (high kurtosis) response; a dense diffuse tail is
  // close to Gaussian (kurtosis 3). Checked in 20 ms windows from 150 ms on.
  RoomParams p;
  p.wet = 1.0;
  const Stereo ir = impulse_response(p, 0.8);
  const std::size_t win = static_cast<std::size_t>(0.02 * kRate);
  for (std::size_t from = static_cast<std::size_t>(0.15 * kRate); from + win <= ir.left.size(); from += win) {
    double m2 = 0, m4 = 0;
    for (std::size_t i = from; i < from + win; ++i) {
      const double v = ir.left[i];
      m2 += v * v;
      m4 += v * v * v * v;
    }
    m2 /= static_cast<double>(win);
    m4 /= static_cast<double>(win);
    ASSERT_LT(m4 / (m2 * m2), 4.5) << "window at " << from;
  }
}

TEST(RoomTest, StableAndFiniteOverSixtySecondsThenDecays) {
  RoomParams p;
  p.size = 1.0;
  p.damping = 0.0;
  p.wet = 1.0;
  Room room(p);
  room.prepare(kRate, kBlock);
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> white(-1.0f, 1.0f);
  const std::size_t frames = 60 * static_cast<std::size_t>(kRate);
  std::vector<float> left(frames), right(frames);
  for (std::size_t i = 0; i < frames; ++i) {
    left[i] = white(rng);
    right[i] = white(rng);
  }
  const Stereo out = run(room, left, right);
  float peak = 0;
  for (std::size_t i = 0; i < frames; ++i) {
    ASSERT_TRUE(std::isfinite(out.left[i]) && std::isfinite(out.right[i])) << i;
    peak = std::max({peak, std::abs(out.left[i]), std::abs(out.right[i])});
  }
  EXPECT_LT(peak, 8.0f);
  // The level in the last ten seconds is no higher than after the first ten: no build-up.
  const double first = energy(out.left, 10 * static_cast<std::size_t>(kRate), 20 * static_cast<std::size_t>(kRate));
  const double last = energy(out.left, 50 * static_cast<std::size_t>(kRate));
  EXPECT_LT(last, first * 1.25);
  EXPECT_GT(last, first * 0.8);
  // Input stops: after tail() frames the output is 60 dB down from its running level.
  std::vector<float> silence(room.tail() + static_cast<std::size_t>(kRate), 0.0f);
  const Stereo ring = run(room, silence, silence);
  const double before = energy(out.left, frames - static_cast<std::size_t>(kRate)) / kRate;
  const double after = energy(ring.left, room.tail()) / kRate;
  EXPECT_LT(10.0 * std::log10(after / before), -60.0);
}

TEST(RoomTest, TailIsTheRingOutTime) {
  RoomParams p;
  p.wet = 1.0;
  const Room room_probe(p);
  Room room(p);
  room.prepare(kRate, kBlock);
  const double seconds = static_cast<double>(room.tail()) / kRate;
  EXPECT_GE(seconds, room_probe.rt60_seconds());
  EXPECT_LE(seconds, room_probe.rt60_seconds() + 0.2);
}

TEST(RoomTest, NoDenormalSlowdownAfterTheTailDies) {
  // After an impulse the state decays by 60 dB per RT60 and passes through the denormal
  // range (1e-38 .. 1e-45, i.e. -760 .. -900 dB) about 13..15 RT60 later. Time every
  // second of the ring-out against a second of noise.
  RoomParams p;
  p.wet = 1.0;
  p.size = 0.3;
  Room room(p);
  room.prepare(kRate, kBlock);
  const std::size_t second = static_cast<std::size_t>(kRate);
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> white(-1.0f, 1.0f);
  std::vector<float> noise(second);
  for (float& v : noise) v = white(rng);
  std::vector<float> silence(second, 0.0f);

  // CPU time, not wall time: a second of audio takes about a millisecond, and on a shared
  // machine one preemption would cost more than that.
  const auto seconds_for = [&](const std::vector<float>& x, Stereo* out = nullptr) {
    const std::clock_t t0 = std::clock();
    Stereo o = run(room, x, x);
    const double s = static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
    if (out != nullptr) *out = std::move(o);
    return s;
  };
  seconds_for(noise);  // warm up
  double with_noise = 1e9;
  for (int i = 0; i < 3; ++i) with_noise = std::min(with_noise, seconds_for(noise));
  room.reset();
  std::vector<float> impulse(second, 0.0f);
  impulse[0] = 1.0f;
  seconds_for(impulse);
  const int seconds = static_cast<int>(std::ceil(16.0 * room.rt60_seconds())) + 2;
  double slowest = 0;
  Stereo out;
  for (int i = 0; i < seconds; ++i) {
    slowest = std::max(slowest, seconds_for(silence, &out));
    // Subnormal output would mean subnormal state (the output is a sum of state values).
    for (std::size_t k = 0; k < out.left.size(); ++k) {
      ASSERT_NE(std::fpclassify(out.left[k]), FP_SUBNORMAL) << "second " << i;
      ASSERT_NE(std::fpclassify(out.right[k]), FP_SUBNORMAL) << "second " << i;
    }
  }
  // The cost of denormals depends on the CPU (large on Intel, small on recent AMD).
  EXPECT_LT(slowest, 3.0 * with_noise) << "noise " << with_noise << " s, slowest silent second " << slowest << " s";
  for (float v : out.left) ASSERT_LT(std::abs(v), 1e-12f);
}

TEST(RoomTest, WetSetsTheLevel) {
  for (double wet : {0.25, 1.0}) {
    for (double size : {0.1, 0.9}) {
      RoomParams p;
      p.wet = wet;
      p.size = size;
      p.damping = 0.0;
      const Stereo ir = impulse_response(p, Room(p).rt60_seconds() * 1.5);
      // A unit impulse on one ear's side gives about wet^2 of energy per ear (early + late).
      const double per_ear = (energy(ir.left) + energy(ir.right)) / 2.0 / 2.0;  // both inputs fed
      EXPECT_NEAR(10.0 * std::log10(per_ear), 20.0 * std::log10(wet) + 10.0 * std::log10(1.5), 3.0)
          << "wet " << wet << " size " << size;
    }
  }
  RoomParams dry;
  dry.wet = 0.0;
  const Stereo silent = impulse_response(dry, 0.5);
  EXPECT_EQ(energy(silent.left) + energy(silent.right), 0.0);
}

TEST(RoomTest, BlockSizeAndResetDoNotChangeTheOutput) {
  RoomParams p;
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> white(-1.0f, 1.0f);
  std::vector<float> left(static_cast<std::size_t>(kRate)), right(left.size());
  for (std::size_t i = 0; i < left.size(); ++i) {
    left[i] = white(rng);
    right[i] = white(rng);
  }
  Room a(p), b(p);
  a.prepare(kRate, 4096);
  b.prepare(kRate, 4096);
  const Stereo out_a = run(a, left, right, 4096);
  run(b, right, left, 300);  // some other history, then reset
  b.reset();
  const Stereo out_b = run(b, left, right, 31);
  for (std::size_t i = 0; i < left.size(); ++i) {
    ASSERT_EQ(out_a.left[i], out_b.left[i]) << i;
    ASSERT_EQ(out_a.right[i], out_b.right[i]) << i;
  }
}

TEST(RoomTest, InPlaceProcessingMatches) {
  RoomParams p;
  std::vector<float> left(20000, 0.0f), right(20000, 0.0f);
  left[10] = 1.0f;
  right[500] = -0.5f;
  Room a(p), b(p);
  a.prepare(kRate, kBlock);
  b.prepare(kRate, kBlock);
  const Stereo expected = run(a, left, right);
  const AudioView io({left.data(), right.data()}, left.size());
  for (std::size_t pos = 0; pos < left.size(); pos += kBlock) {
    const std::size_t n = std::min(kBlock, left.size() - pos);
    b.process(io.slice(pos, n), io.slice(pos, n));
  }
  EXPECT_EQ(left, expected.left);
  EXPECT_EQ(right, expected.right);
}

}  // namespace
}  // namespace sy::engine
