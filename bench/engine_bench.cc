// Engine alone: how many times faster than real time the 8D chain runs on one core.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "engine/audio_buffer.h"
#include "engine/beat_tracker.h"
#include "engine/convolver.h"
#include "engine/presets.h"
#include "engine/renderer.h"

namespace {

constexpr double kRate = 48000.0;
constexpr std::size_t kBlock = 1024;
constexpr std::size_t kSeconds = 10;

std::vector<float> noise(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-0.3f, 0.3f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

sy::engine::EngineSettings preset(const char* name) {
  const sy::engine::Preset* p = sy::engine::find_preset(name);
  return p != nullptr ? p->settings : sy::engine::EngineSettings{};
}

// Processes 10 s of stereo noise per iteration; "x_realtime" is audio seconds per second.
void run_renderer(benchmark::State& state, const sy::engine::EngineSettings& settings,
                  const sy::engine::MotionContext& motion = {}) {
  auto renderer = sy::engine::make_renderer(settings, sy::engine::kDefaultSofaPath, nullptr, motion);
  renderer->prepare(kRate, kBlock);
  const std::size_t frames = kSeconds * static_cast<std::size_t>(kRate);
  const auto left = noise(frames, 1), right = noise(frames, 2);
  std::vector<float> out_l(kBlock), out_r(kBlock);
  const sy::engine::ConstAudioView in({left.data(), right.data()}, frames);
  const sy::engine::AudioView out({out_l.data(), out_r.data()}, kBlock);
  for (auto _ : state) {
    for (std::size_t pos = 0; pos + kBlock <= frames; pos += kBlock) renderer->process(in.slice(pos, kBlock), out);
    benchmark::DoNotOptimize(out_l.data());
  }
  state.counters["x_realtime"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kSeconds), benchmark::Counter::kIsRate);
}

void BM_Classic(benchmark::State& state) { run_renderer(state, preset("classic")); }
void BM_ClassicDry(benchmark::State& state) {
  auto s = preset("classic");
  s.reverb = 0;
  run_renderer(state, s);
}
// Full-sphere decoder (16 channels), room off so the numbers compare with ClassicDry.
void BM_ElevatedDry(benchmark::State& state) {
  auto s = preset("classic");
  s.elevation_degrees = 30;
  s.reverb = 0;
  run_renderer(state, s);
}
void BM_FigureEightDry(benchmark::State& state) {
  auto s = preset("classic");
  s.trajectory = sy::engine::Trajectory::kFigureEight;
  s.reverb = 0;
  run_renderer(state, s);
}
void BM_Legacy(benchmark::State& state) { run_renderer(state, preset("legacy")); }
// Issue 12 with everything on: beat sync (a 120 BPM grid), curves for width, elevation and
// room, the fade, and the voice kept in front (the STFT split and a third source).
void BM_EverythingOn(benchmark::State& state) {
  auto s = preset("classic");
  s.beats_per_turn = 16;
  s.fade_seconds = 2;
  s.vocals = sy::engine::Vocals::kCenter;
  s.width_curve = {{0, 40}, {5, 120}, {10, 60}};
  s.elevation_curve = {{0, 0}, {6, 20}};
  s.reverb_curve = {{0, 0.1}, {8, 0.5}};
  sy::engine::BeatGrid grid;
  for (double t = 0.25; t < 60; t += 0.5) grid.beats.push_back(t);
  sy::engine::MotionContext motion;
  motion.duration_seconds = kSeconds;
  motion.beats = &grid;
  run_renderer(state, s, motion);
}
void BM_VocalsCenter(benchmark::State& state) {
  auto s = preset("classic");
  s.vocals = sy::engine::Vocals::kCenter;
  run_renderer(state, s);
}
// The beat pass before a beat-synced render: onset function, tempo path, beats and bars.
void BM_BeatTracker(benchmark::State& state) {
  const std::size_t frames = kSeconds * static_cast<std::size_t>(kRate);
  const auto left = noise(frames, 1), right = noise(frames, 2);
  for (auto _ : state) {
    sy::engine::BeatTracker tracker(kRate);
    for (std::size_t pos = 0; pos + kBlock <= frames; pos += kBlock)
      tracker.add(sy::engine::ConstAudioView({left.data() + pos, right.data() + pos}, kBlock));
    benchmark::DoNotOptimize(tracker.finish());
  }
  state.counters["x_realtime"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kSeconds), benchmark::Counter::kIsRate);
}

// The decoder's convolution alone: 7 (horizontal) or 16 (sphere) channels into two ears.
void BM_Convolver(benchmark::State& state) {
  const auto channels = static_cast<std::size_t>(state.range(0));
  constexpr std::size_t kPartition = 256;
  sy::engine::PartitionedConvolver conv(kPartition, channels, 2);
  for (std::size_t c = 0; c < channels; ++c) conv.set_filter(c % 2, c, noise(540, static_cast<unsigned>(c)));
  sy::engine::AudioBuffer in(channels, kPartition), out(2, kPartition);
  for (std::size_t c = 0; c < channels; ++c) {
    const auto v = noise(kPartition, 9);
    std::copy(v.begin(), v.end(), in.channel(c));
  }
  for (auto _ : state) {
    conv.process(in.view(), out.view());
    benchmark::DoNotOptimize(out.channel(0));
  }
  state.counters["x_realtime"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kPartition / kRate, benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_Classic)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ClassicDry)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ElevatedDry)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FigureEightDry)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Legacy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EverythingOn)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_VocalsCenter)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BeatTracker)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Convolver)->Arg(7)->Arg(16)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
